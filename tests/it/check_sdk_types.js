// Type-checks the LLM request bodies the worker sent (the fake LLM's ledger) against the request types of
// the providers' official SDKs, with the TypeScript compiler API: one .ts file per body, `const body: T =
// <the body>;`, so that the compiler's excess-property and type checks apply to every nested field.
//   openai    ChatCompletionCreateParamsNonStreaming (npm openai): the body of POST /chat/completions.
//   anthropic MessageCreateParamsNonStreaming (npm @anthropic-ai/sdk): the body of POST /v1/messages. The
//             SDK release is the last one for the anthropic-version the worker sends (2023-06-01): from
//             1.0 on the SDK speaks the API version 2026-10-21, whose request has no temperature at all.
//   gemini    the REST body of models.generateContent, made of @google/genai's own types. The SDK's
//             GenerateContentParameters is not the wire shape: it takes {model, contents, config} and
//             moves systemInstruction, tools, toolConfig and the generation settings out of `config` into
//             the REST body's top level (the settings under generationConfig: GenerationConfig). The REST
//             request (GenerateContentRequest of the API reference) is {contents: Content[],
//             systemInstruction?: Content, tools?: Tool[], toolConfig?: ToolConfig, generationConfig?:
//             GenerationConfig, ...}; on the wire an SDK enum (Type, FunctionCallingConfigMode) is its string
//             value, so Wire<T> turns each enum into the union of its values.
// Usage: node check_sdk_types.js NODE_MODULES LEDGER.json OUTDIR
// Prints "<provider> ok N" per provider with bodies, or the compiler's diagnostics; exits 1 on any error
// or when the ledger has no request at all.
'use strict';
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const [nodeModules, ledgerPath, outDir] = process.argv.slice(2);
const PROVIDERS = {
  openai: {
    head: "import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';\n",
    type: 'ChatCompletionCreateParamsNonStreaming',
  },
  anthropic: {
    head: "import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';\n",
    type: 'MessageCreateParamsNonStreaming',
  },
  gemini: {
    head:
      "import type { Content, Tool, ToolConfig, GenerationConfig } from '@google/genai';\n" +
      'type Wire<T> = T extends string ? `${T}` : T extends (infer U)[] ? Wire<U>[] :\n' +
      '  T extends object ? { [K in keyof T]: Wire<T[K]> } : T;\n' +
      'type GenerateContentRequest = Wire<{ contents: Content[]; systemInstruction?: Content; tools?: Tool[];\n' +
      '  toolConfig?: ToolConfig; generationConfig?: GenerationConfig }>;\n',
    type: 'GenerateContentRequest',
  },
};

const ledger = JSON.parse(fs.readFileSync(ledgerPath, 'utf8'));
fs.mkdirSync(outDir, { recursive: true });
const files = [], owner = {}, counts = {};
ledger.forEach((e, i) => {
  const p = PROVIDERS[e.provider];
  if (!p || !e.body) return;
  const file = path.join(outDir, `${e.provider}_${i}.ts`);
  fs.writeFileSync(file, `${p.head}export const body: ${p.type} = ${JSON.stringify(e.body, null, 1)};\n`);
  files.push(file);
  owner[file] = e.provider;
  counts[e.provider] = (counts[e.provider] || 0) + 1;
});
if (files.length === 0) {
  console.log('no provider request in the ledger');
  process.exit(1);
}
const program = ts.createProgram(files, {
  noEmit: true,
  strict: true,
  skipLibCheck: true,  // the SDKs' own declarations are theirs to check; the bodies are ours
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  baseUrl: nodeModules,
  paths: { '*': [path.join(nodeModules, '*')] },
  types: [],
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
});
const bad = {};
for (const d of ts.getPreEmitDiagnostics(program)) {
  const file = d.file ? d.file.fileName : '(global)';
  const prov = owner[file] || 'global';
  bad[prov] = (bad[prov] || 0) + 1;
  const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
  console.log(`${path.basename(file)}${where ? `:${where.line + 1}` : ''}: ` +
              ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}
for (const prov of Object.keys(counts).sort())
  console.log(bad[prov] ? `${prov} errors ${bad[prov]} in ${counts[prov]} bodies` : `${prov} ok ${counts[prov]}`);
process.exit(Object.keys(bad).length ? 1 : 0);
