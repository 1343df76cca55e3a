// Cuts an OpenAPI description down to the paths a test uses: keeps openapi, info, servers, security, the named
// path items, every component they reach through "$ref" (transitively) and every security scheme.
// Usage: node trim-openapi.js FULL.json|FULL.yaml PATH... > TRIMMED.json   (see README.md for the commands used)
// A YAML description is read with the `yaml` package of tests/node and written as JSON.
'use strict';
const fs = require('fs');

const [src, ...keep] = process.argv.slice(2);
if (!src || keep.length === 0) {
  console.error('usage: node trim-openapi.js FULL.json PATH...');
  process.exit(2);
}
const text = fs.readFileSync(src, 'utf8');
const full = /\.ya?ml$/.test(src)
  ? require(require('path').join(__dirname, '../node/node_modules/yaml')).parse(text, { maxAliasCount: -1 })
  : JSON.parse(text);
const out = { openapi: full.openapi, info: full.info };
if (full.servers) out.servers = full.servers;
if (full.security) out.security = full.security;
out.paths = {};
for (const p of keep) {
  if (!full.paths[p]) { console.error(`no path ${p} in ${src}`); process.exit(1); }
  out.paths[p] = full.paths[p];
}
out.components = {};
if (full.components.securitySchemes) out.components.securitySchemes = full.components.securitySchemes;

function reach(node) {
  if (Array.isArray(node)) return node.forEach(reach);
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    const m = k === '$ref' && typeof v === 'string' && /^#\/components\/([^/]+)\/([^/]+)$/.exec(v);
    if (!m) { reach(v); continue; }
    const [, kind, name] = m;
    out.components[kind] = out.components[kind] || {};
    if (out.components[kind][name]) continue;
    out.components[kind][name] = full.components[kind][name];
    reach(full.components[kind][name]);
  }
}
reach(out.paths);
for (const kind of Object.keys(out.components)) {  // stable order: as in the full description
  const sorted = {};
  for (const name of Object.keys(full.components[kind])) if (name in out.components[kind]) sorted[name] = out.components[kind][name];
  out.components[kind] = sorted;
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
