// Posts one contact's messages to lull's generic webhook from one process at a steady pace, so that a timing
// test's precondition does not depend on how fast a shell can start curl and jq between two messages.
// Usage: node post_burst.js WEBHOOK_URL GAP_MS CONTACT TEXT...   (one message per TEXT, in order)
// The i-th request starts GAP_MS * i after the first one (or when the previous one is answered, if later).
// Prints one line per message: "STATUS SENT_MS ANSWERED_MS" (wall clock, milliseconds since the epoch: when the
// request started and when its answer arrived; STATUS 0 when there was none).
'use strict';
const http = require('http');

const [url, gapArg, contact, ...texts] = process.argv.slice(2);
const gap = Number(gapArg);
if (!url || !(gap >= 0) || !contact || texts.length === 0) {
  console.error('usage: node post_burst.js WEBHOOK_URL GAP_MS CONTACT TEXT...');
  process.exit(2);
}

function post(body) {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      timeout: 10000,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

(async () => {
  const start = Date.now();
  for (let i = 0; i < texts.length; i++) {
    const wait = start + i * gap - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = Date.now();
    const status = await post(JSON.stringify({ contact_id: contact, message: { body: texts[i] } }));
    console.log(`${status} ${sent} ${Date.now()}`);
  }
})();
