// n8n loads the node and credential from the paths listed in package.json's "n8n" section;
// this entry point only exists so that `require('n8n-nodes-fal-flux-fill')` resolves.
module.exports = {};
