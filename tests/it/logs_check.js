// Every line of every process log is one JSON object: reads the logs tests/it/lib.sh kept (DIR/<test>.<pid>/<file>:
// the output of each lull tier a test started and its LULL_LOG_FILE) and prints FAIL naming the file and line of
// each line that is not valid UTF-8 or does not parse as a JSON object, PASS when every line does.
// Usage: node tests/it/logs_check.js DIR
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
const utf8 = new TextDecoder('utf-8', { fatal: true });
let files = 0, lines = 0, bad = 0;
for (const test of fs.readdirSync(dir).sort()) {
  const tdir = path.join(dir, test);
  if (!fs.statSync(tdir).isDirectory()) continue;
  for (const name of fs.readdirSync(tdir).sort()) {
    const file = path.join(tdir, name);
    files++;
    const buf = fs.readFileSync(file);
    let start = 0, lineno = 0;
    while (start < buf.length) {
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      const raw = buf.subarray(start, end);
      start = end + 1;
      lineno++;
      lines++;
      let why = null;
      try {
        const v = JSON.parse(utf8.decode(raw));
        if (v === null || typeof v !== 'object' || Array.isArray(v)) why = 'not a JSON object';
      } catch (e) {
        why = e instanceof TypeError ? 'not UTF-8' : 'not JSON';
      }
      if (why) {
        bad++;
        if (bad <= 40) {
          const text = raw.toString('latin1').replace(/[^\x20-\x7e]/g, '?');
          console.log(`FAIL ${test}/${name}:${lineno}: ${why}: ${text.slice(0, 160)}`);
        }
      }
    }
  }
}
if (bad > 40) console.log(`FAIL … and ${bad - 40} more lines that are not JSON objects`);
if (bad === 0) console.log(`PASS every line of ${files} process logs (${lines} lines) is one JSON object`);
process.exit(bad ? 1 : 0);
