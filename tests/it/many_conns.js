// Many kept-alive connections at once: opens N connections to 127.0.0.1:PORT, then for ROUNDS rounds writes one
// GET PATH on every connection back to back (so that they turn readable together) and waits for every answer.
// Usage: node many_conns.js PORT N ROUNDS PATH [HOLD_FILE]
// Prints one JSON line: {"connected", "rounds" (completed), "answered", "non200", "closed", "missing"}; a round
// whose answers are not all in within WAIT_MS (env, default 15000) ends the run with "missing" > 0. With
// HOLD_FILE, after the rounds the connections stay open: the file is written, and the process waits for SIGTERM.
'use strict';
const net = require('net');
const fs = require('fs');

const [portArg, nArg, roundsArg, path, holdFile] = process.argv.slice(2);
const port = Number(portArg), n = Number(nArg), rounds = Number(roundsArg);
const waitMs = Number(process.env.WAIT_MS || 15000);
if (!(port > 0 && port < 65536) || !(n >= 1 && n <= 5000) || !(rounds >= 1 && rounds <= 1000) || !path ||
    !path.startsWith('/') || !(waitMs > 0)) {
  console.error('usage: node many_conns.js PORT N(1-5000) ROUNDS(1-1000) /PATH [HOLD_FILE]');
  process.exit(2);
}
const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
const stats = { connected: 0, rounds: 0, answered: 0, non200: 0, closed: 0, missing: 0 };

// One connection: its bytes since the last answer, and the callback waiting for the next answer.
function open() {
  return new Promise((resolve) => {
    const c = { sock: net.connect(port, '127.0.0.1'), buf: Buffer.alloc(0), onAnswer: null, dead: false };
    c.sock.setNoDelay(true);
    c.sock.on('connect', () => { stats.connected++; resolve(c); });
    c.sock.on('data', (d) => { c.buf = Buffer.concat([c.buf, d]); parse(c); });
    const end = () => {
      if (c.dead) return;
      c.dead = true;
      stats.closed++;
      if (c.onAnswer) { const f = c.onAnswer; c.onAnswer = null; f(false); }
      resolve(c);
    };
    c.sock.on('error', end);
    c.sock.on('close', end);
  });
}

// An answer is whole when its head and Content-Length bytes of body are in (the servers tested send lengths).
function parse(c) {
  const head = c.buf.indexOf('\r\n\r\n');
  if (head < 0 || !c.onAnswer) return;
  const lines = c.buf.subarray(0, head).toString('latin1').split('\r\n');
  const cl = lines.find((l) => /^content-length:/i.test(l));
  const len = cl ? Number(cl.split(':')[1]) : 0;
  if (c.buf.length < head + 4 + len) return;
  if (!/^HTTP\/1\.1 200 /.test(lines[0])) stats.non200++;
  c.buf = c.buf.subarray(head + 4 + len);
  const f = c.onAnswer;
  c.onAnswer = null;
  f(true);
}

async function main() {
  const conns = await Promise.all(Array.from({ length: n }, open));
  for (let r = 0; r < rounds && stats.closed === 0; r++) {
    const answers = conns.map((c) => new Promise((resolve) => { c.onAnswer = resolve; }));
    for (const c of conns) if (!c.dead) c.sock.write(request);
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), waitMs); });
    const done = Promise.all(answers).then((oks) => oks.filter(Boolean).length);
    const got = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (got === 'timeout') {
      stats.missing = conns.filter((c) => c.onAnswer).length;
      stats.answered += n - stats.missing;
      break;
    }
    stats.answered += got;
    if (got === n) stats.rounds++;
  }
  console.log(JSON.stringify(stats));
  if (!holdFile) {
    for (const c of conns) c.sock.destroy();
    process.exit(0);
  }
  fs.writeFileSync(holdFile, JSON.stringify(stats) + '\n');
  process.on('SIGTERM', () => process.exit(0));
  setInterval(() => {}, 1 << 30);
}
main();
