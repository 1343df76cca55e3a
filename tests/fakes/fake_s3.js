// fake_s3: an S3-compatible PUT endpoint for lull's tests whose signature check is not lull's code: every
// request's AWS Signature Version 4 is recomputed with the AWS SDK's signer (@smithy/signature-v4 with
// @aws-crypto/sha256-js) from the received method, path, query, signed headers and body, and compared.
// Usage: NODE_PATH=tests/node/node_modules node fake_s3.js PORT ACCESS_KEY SECRET_KEY REGION
// PUT /{bucket}/{key}: 200 with an ETag when the signature is right (the object is kept), 403
// SignatureDoesNotMatch otherwise. GET /_fake/ledger: [{method, path, bytes, content_sha256, signed_headers,
// signature_ok, region, service}]; POST /_fake/reset; POST /_fake/fail {"count"}: the next PUTs answer 500.
'use strict';
const http = require('http');
const crypto = require('crypto');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

const [port, accessKeyId, secretAccessKey, region] = process.argv.slice(2);
if (!port || !accessKeyId || !secretAccessKey || !region) {
  process.stderr.write('usage: fake_s3.js PORT ACCESS_KEY SECRET_KEY REGION\n');
  process.exit(64);
}
let ledger = [];
let failures = 0;
const objects = new Map();

// "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, SignedHeaders=a;b, Signature=hex"
function parseAuth(v) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(v || '');
  return m && { key: m[1], date: m[2], region: m[3], service: m[4], signed: m[5].split(';'), signature: m[6] };
}

// x-amz-date "20260101T120000Z" → Date
function amzDate(v) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v || '');
  return m && new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

async function verify(req, body, auth) {
  if (!auth || auth.key !== accessKeyId || auth.region !== region || auth.service !== 's3') return false;
  const date = amzDate(req.headers['x-amz-date']);
  if (!date) return false;
  const url = new URL(req.url, `http://${req.headers.host}`);
  const headers = {};
  for (const h of auth.signed) {
    if (req.headers[h] === undefined) return false;
    headers[h] = String(req.headers[h]);
  }
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey }, region, service: 's3', sha256: Sha256,
    uriEscapePath: false, applyChecksum: false,
  });
  const signed = await signer.sign({
    method: req.method, protocol: 'http:', hostname: url.hostname, port: +url.port, path: url.pathname,
    query, headers, body,
  }, { signingDate: date, unsignableHeaders: new Set(), signableHeaders: new Set(auth.signed) });
  const got = parseAuth(signed.headers.authorization || signed.headers.Authorization);
  return !!got && got.signature === auth.signature && got.signed.join(';') === auth.signed.join(';');
}

function send(res, status, type, body, extra) {
  res.writeHead(status, { 'Content-Type': type, ...(extra || {}) });
  res.end(body);
}

http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => { size += c.length; if (size <= 64 << 20) chunks.push(c); });
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    if (req.url === '/_fake/ledger' && req.method === 'GET') return send(res, 200, 'application/json', JSON.stringify(ledger));
    if (req.url === '/_fake/reset' && req.method === 'POST') {
      ledger = []; failures = 0; objects.clear();
      return send(res, 200, 'application/json', '{}');
    }
    if (req.url === '/_fake/fail' && req.method === 'POST') {
      failures = JSON.parse(body.toString() || '{}').count || 1;
      return send(res, 200, 'application/json', '{}');
    }
    const auth = parseAuth(req.headers.authorization);
    let ok = false;
    try { ok = await verify(req, body, auth); } catch (e) { process.stderr.write(`fake_s3: ${e.stack}\n`); }
    const sha = req.headers['x-amz-content-sha256'];
    const bodySha = crypto.createHash('sha256').update(body).digest('hex');
    ledger.push({
      method: req.method, path: req.url, bytes: body.length, content_sha256: sha || null,
      content_sha256_ok: sha === bodySha, content_type: req.headers['content-type'] || null,
      signed_headers: auth ? auth.signed : null, signature_ok: ok, region: auth && auth.region, service: auth && auth.service,
    });
    if (req.method !== 'PUT') return send(res, 405, 'application/xml', '<Error><Code>MethodNotAllowed</Code></Error>');
    if (!ok) return send(res, 403, 'application/xml', '<Error><Code>SignatureDoesNotMatch</Code></Error>');
    if (failures > 0) { failures--; return send(res, 500, 'application/xml', '<Error><Code>InternalError</Code></Error>'); }
    objects.set(req.url, body);
    send(res, 200, 'text/plain', '', { ETag: `"${crypto.createHash('md5').update(body).digest('hex')}"` });
  });
}).listen(+port, '127.0.0.1', () => process.stderr.write(`fake_s3: listening on 127.0.0.1:${port}\n`));
process.on('SIGTERM', () => process.exit(0));
