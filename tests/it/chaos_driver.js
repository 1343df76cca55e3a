// Traffic of scripts/chaos: N conversations (contacts PREFIX-1 … PREFIX-N), each one burst of 1–6 messages
// posted back to back to lull's generic webhook (through the load balancer), the conversations' starts spread
// evenly over SECONDS, LANES conversations in flight at once. Every message carries a dedupe id (its mid) and
// is posted again after any failure (connection refused or reset, timeout, 5xx, 429) until it is acknowledged
// (200 with a message_id) or the deadline passes: the dedupe id makes that safe.
// Usage: node chaos_driver.js URL PREFIX N SECONDS LANES ACK_FILE DEADLINE_S
// ACK_FILE gets one line per acknowledged message: "CONTACT MID MESSAGE_ID DUPLICATE". On stdout: a progress
// line every 5 s, and at the end "driver: posted=… acked=… retries=… gave_up=…". Exit 0 when nothing was given up.
'use strict';
const http = require('http');
const fs = require('fs');

const [url, prefix, nArg, secArg, lanesArg, ackFile, deadlineArg] = process.argv.slice(2);
const N = Number(nArg), SECONDS = Number(secArg), LANES = Number(lanesArg), DEADLINE_S = Number(deadlineArg);
if (!url || !prefix || !(N > 0) || !(SECONDS > 0) || !(LANES > 0) || !ackFile || !(DEADLINE_S > 0)) {
  console.error('usage: node chaos_driver.js URL PREFIX N SECONDS LANES ACK_FILE DEADLINE_S');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: LANES });
const ack = fs.createWriteStream(ackFile, { flags: 'a' });
const start = Date.now();
const deadline = start + DEADLINE_S * 1000;
let posted = 0, acked = 0, retries = 0, gaveUp = 0;
const codes = {};

// burst sizes 1–6, small ones more often (a deterministic sequence: a run can be repeated)
const SIZES = [1, 1, 1, 2, 2, 3, 1, 4, 2, 5, 1, 6];
const burst = (n) => SIZES[(n * 7) % SIZES.length];

function post(body) {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST', agent, timeout: 5000,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { if (data.length < 4096) data += c; });
      res.on('end', () => resolve({ code: res.statusCode, data }));
      res.on('error', () => resolve({ code: 0, data: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ code: 0, data: '' }));
    req.end(body);
  });
}

async function send(contact, mid, text) {
  const body = JSON.stringify({ contact_id: contact, message: { body: text, id: mid } });
  posted++;
  while (Date.now() < deadline) {
    const { code, data } = await post(body);
    if (code === 200) {
      const m = /"message_id":(\d+)/.exec(data);
      if (m) {
        ack.write(`${contact} ${mid} ${m[1]} ${/"duplicate":true/.test(data)}\n`);
        acked++;
        return;
      }
    }
    codes[code] = (codes[code] || 0) + 1;
    retries++;
    await new Promise((r) => setTimeout(r, 100));
  }
  gaveUp++;
  console.log(`driver: gave up ${contact} ${mid}`);
}

let next = 1;
async function lane() {
  while (next <= N) {
    const n = next++;
    const at = start + Math.floor(((n - 1) * SECONDS * 1000) / N);
    const wait = at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const contact = `${prefix}-${n}`;
    for (let k = 1; k <= burst(n); k++) await send(contact, `${prefix}-m${n}-${k}`, `chaos ${n} message ${k}`);
  }
}

const progress = setInterval(() => {
  console.log(`driver: t=${Math.round((Date.now() - start) / 1000)}s started=${next - 1}/${N} acked=${acked} retries=${retries}`);
}, 5000);
Promise.all(Array.from({ length: LANES }, lane)).then(() => {
  clearInterval(progress);
  ack.end(() => {
    console.log(`driver: posted=${posted} acked=${acked} retries=${retries} gave_up=${gaveUp} retry_codes=${JSON.stringify(codes)}`);
    process.exit(gaveUp === 0 ? 0 : 1);
  });
});
