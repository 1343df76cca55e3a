// Signs Twilio webhook requests with the official `twilio` npm library and says whether that library's own
// validator accepts them, for tests/it/test_ingress_twilio_lib.sh.
// Usage: node twilio_lib.js TOKEN < cases.jsonl   (NODE_PATH=tests/node/node_modules)
// One case per line: {"signed": URL the signature covers, "received": URL the server will see,
//   "params": {form fields} | "body": raw JSON body, "hashed": text whose SHA-256 goes in the URLs (default body)}.
// In JSON cases "{sha}" in both URLs becomes the hex SHA-256 (twilio.getExpectedBodyHash) of `hashed`.
// Prints one line per case: {"sig": X-Twilio-Signature, "valid": validateRequest[WithBody] of received, "received"}.
'use strict';
const readline = require('readline');
const { getExpectedTwilioSignature, getExpectedBodyHash, validateRequest, validateRequestWithBody } = require('twilio');

const token = process.argv[2];
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const c = JSON.parse(line);
  let { signed, received } = c;
  let sig, valid;
  if (c.body !== undefined) {
    const sha = getExpectedBodyHash(c.hashed !== undefined ? c.hashed : c.body);
    signed = signed.replace('{sha}', sha);
    received = received.replace('{sha}', sha);
    sig = getExpectedTwilioSignature(token, signed, null);
    valid = validateRequestWithBody(token, sig, received, c.body);
  } else {
    sig = getExpectedTwilioSignature(token, signed, c.params);
    valid = validateRequest(token, sig, received, c.params);
  }
  process.stdout.write(JSON.stringify({ sig, valid, received }) + '\n');
});
