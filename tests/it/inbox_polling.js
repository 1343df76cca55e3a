// The agents' inbox when the server refuses its live stream (every slot of LULL_ADMIN_INBOX_STREAMS_MAX taken):
// headless Chromium (Debian's, playwright-core) signs in, the badge says "polling" (not "offline"), a conversation
// escalated meanwhile appears in the list without a reload, and once a slot is free the badge says "live" again.
// Steps are handed to the calling script through files in DIR: the page writes DIR/polling when it polls (the
// script then escalates a conversation), DIR/listed when the escalation is listed (the script then frees the slot).
// Usage: node inbox_polling.js ADMIN_URL TOKEN DIR USER_DATA_DIR. Prints one JSON line; exits 1 on failure.
'use strict';
const fs = require('fs');
const { launch } = require('./chromium');

async function main() {
    const [adm, token, dir, profile] = process.argv.slice(2);
    if (!profile) throw new Error('usage: inbox_polling.js ADMIN_URL TOKEN DIR USER_DATA_DIR');
    const ctx = await launch(profile, 375, 740);
    const out = {};
    try {
        const page = ctx.pages()[0] || await ctx.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        const resp = await page.goto(adm + '/inbox');
        if (!resp || resp.status() !== 200) throw new Error('GET /inbox answered ' + (resp && resp.status()));
        await page.fill('#token', token);
        await page.press('#token', 'Enter');
        await page.waitForSelector('#live[data-state="polling"]', { timeout: 15000 });
        out.badge = await page.textContent('#live');
        out.listedBefore = await page.evaluate(() => document.querySelectorAll('#list li.escalated').length);
        await page.evaluate(() => { window.__noReload = 1; });
        fs.writeFileSync(dir + '/polling', '1');
        await page.waitForSelector('#list li.escalated', { timeout: 20000 });
        out.noReload = await page.evaluate(() => window.__noReload === 1);
        out.listItem = await page.textContent('#list li.escalated');
        out.stillPolling = await page.getAttribute('#live', 'data-state');
        await page.screenshot({ path: dir + '/inbox-polling.png', fullPage: true });
        fs.writeFileSync(dir + '/listed', '1');
        await page.waitForSelector('#live[data-state="live"]', { timeout: 20000 });
        out.badgeAfter = await page.textContent('#live');
        if (errors.length) throw new Error('page errors: ' + errors.join('; '));
        console.log(JSON.stringify(out));
    } finally {
        await ctx.close();
    }
}

main().catch((e) => { console.error('inbox_polling: ' + (e && e.stack || e)); process.exit(1); });
