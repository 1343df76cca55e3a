// Validates OpenAI request bodies against CreateChatCompletionRequest of tests/data/specs/openai_openapi.json
// with ajv (2020-12 draft) after dropping the OpenAPI-only `nullable` and `discriminator` keywords.
// Usage: node validate_openai.js SPEC LEDGER.json  (LEDGER: the fake LLM's ledger, a JSON array)
// Prints "ok N" or the violations; exits 1 when a body does not validate or there is none.
'use strict';
const fs = require('fs');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

function strip(node) {
  if (Array.isArray(node)) return node.forEach(strip);
  if (node && typeof node === 'object') {
    delete node.nullable;
    delete node.discriminator;
    Object.values(node).forEach(strip);
  }
}

const [specPath, ledgerPath] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
strip(spec.components);
const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openai', components: spec.components });
const validate = ajv.getSchema('openai#/components/schemas/CreateChatCompletionRequest');
const ledger = JSON.parse(fs.readFileSync(ledgerPath, 'utf8'));
const bodies = ledger.filter((e) => e.provider === 'openai').map((e) => e.body);
let bad = 0;
for (const body of bodies) {
  if (!validate(body)) {
    bad++;
    console.log('invalid body:', JSON.stringify(body).slice(0, 300));
    console.log(JSON.stringify(validate.errors.slice(0, 5), null, 1));
  }
}
if (bodies.length === 0) { console.log('no OpenAI request in the ledger'); process.exit(1); }
console.log(bad ? `invalid ${bad} of ${bodies.length}` : `ok ${bodies.length}`);
process.exit(bad ? 1 : 0);
