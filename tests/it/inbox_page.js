// Drives the agents' inbox (lull-admin GET /inbox) in Debian's headless Chromium with playwright-core, at
// 375 px wide: a wrong token shows a clear error; sign in; a contact's message that escalates (a tenant
// keyword, with <img src=x onerror=alert(1)> in it) appears in the live list without a reload; its history
// shows that text as text; the agent replies (a double click sends once; Enter sends, Shift+Enter is a new
// line), hands back, and the bot's answer to the contact's next message appears live; the overview draws its
// charts. Usage: node inbox_page.js ADMIN_URL INGRESS_URL TOKEN SCREENSHOT_DIR USER_DATA_DIR. Prints one
// JSON line; exits 1 with a reason on failure.
'use strict';
const { launch } = require('./chromium');

const EVIL = '<img src=x onerror=alert(1)> I need a manager now';

async function webhook(ing, contact, text) {
    const r = await fetch(ing + '/webhook', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ contact_id: contact, message: { body: text }, first_name: 'Ivy', last_name: 'Tester' }) });
    if (r.status !== 200) throw new Error('webhook answered ' + r.status);
    return (await r.json()).message_id;
}

async function noHorizontalScroll(page, where) {
    const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    if (w[0] > w[1]) throw new Error(where + ': the page scrolls sideways at ' + w[1] + ' px (' + w[0] + ' px wide)');
    return w[0];
}

async function main() {
    const [adm, ing, token, shots, profile] = process.argv.slice(2);
    if (!profile) throw new Error('usage: inbox_page.js ADMIN_URL INGRESS_URL TOKEN SCREENSHOT_DIR USER_DATA_DIR');
    const ctx = await launch(profile, 375, 740);
    const out = {};
    try {
        const page = ctx.pages()[0] || await ctx.newPage();
        const errors = [], dialogs = [], csp = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
        page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
        const resp = await page.goto(adm + '/inbox');
        if (!resp || resp.status() !== 200) throw new Error('GET /inbox answered ' + (resp && resp.status()));

        // a wrong token: a clear error, still signed out
        await page.fill('#token', 'not-the-token');
        await page.click('#signin-form button[type="submit"]');
        await page.waitForFunction(() => /Wrong token/.test(document.getElementById('signin-error').textContent),
                                   null, { timeout: 10000 });
        out.wrongToken = await page.textContent('#signin-error');
        if (await page.isVisible('#view-inbox')) throw new Error('the inbox is shown after a wrong token');

        // sign in; the live list is connected
        await page.fill('#token', token);
        await page.press('#token', 'Enter');
        await page.waitForSelector('#live[data-state="live"]', { timeout: 15000 });
        out.tokenStored = await page.evaluate(() => sessionStorage.getItem('lull.admin.token') !== null);
        await page.evaluate(() => { window.__noReload = 1; });

        // an escalation arrives live
        await webhook(ing, 'ivy-375', EVIL);
        await page.waitForSelector('#list li.escalated', { timeout: 20000 });
        out.escalatedLive = await page.evaluate(() => window.__noReload === 1);
        out.listItem = await page.textContent('#list li.escalated');
        out.announced = await page.textContent('#status');
        await noHorizontalScroll(page, 'the list');

        // the conversation: the contact's text shown as text
        await page.click('#list li.escalated button');
        await page.waitForSelector('#history li.contact', { timeout: 10000 });
        out.conversation = Number(await page.getAttribute('#list li.escalated', 'data-id'));
        out.historyContact = await page.textContent('#history li.contact .body');
        out.imgs = await page.evaluate(() => document.querySelectorAll('img').length);
        out.meta = await page.textContent('#conv-meta');
        await noHorizontalScroll(page, 'the conversation');
        await page.screenshot({ path: shots + '/inbox-conversation.png', fullPage: true });

        // a reply: a double click sends once
        await page.fill('#reply-text', 'Hello Ivy, Sam from support here');
        await page.dblclick('#reply-send');
        await page.waitForSelector('#history li.human', { timeout: 10000 });
        // Enter sends, Shift+Enter is a new line
        await page.click('#reply-text');
        await page.keyboard.type('Second line');
        await page.keyboard.down('Shift');
        await page.keyboard.press('Enter');
        await page.keyboard.up('Shift');
        await page.keyboard.type('and more');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => document.querySelectorAll('#history li.human').length >= 2, null, { timeout: 10000 });
        out.humanTexts = await page.$$eval('#history li.human .body', (b) => b.map((x) => x.textContent));

        // hand back (without answering the pending messages), then the bot answers the next message, live
        await page.click('#handback');
        await page.waitForFunction(() => /Status: open/.test(document.getElementById('conv-meta').textContent), null,
                                   { timeout: 10000 });
        await webhook(ing, 'ivy-375', 'thanks! one more question about my order');
        await page.waitForSelector('#history li.bot', { timeout: 30000 });
        out.botReply = await page.textContent('#history li.bot .body');

        // the overview
        await page.click('nav [data-view="overview"]');
        await page.waitForSelector('#charts figure svg', { timeout: 10000 });
        out.totals = await page.$$eval('#totals div', (ds) => Object.fromEntries(ds.map((d) =>
            [d.querySelector('dt').textContent, d.querySelector('dd').textContent])));
        out.charts = await page.$$eval('#charts figure', (fs) => fs.map((f) => f.dataset.key));
        out.bars = await page.$$eval('#charts rect.bar[height]', (rs) => rs.filter((r) => Number(r.getAttribute('height')) > 0).length);
        await noHorizontalScroll(page, 'the overview');
        await page.screenshot({ path: shots + '/inbox-overview.png', fullPage: true });

        // dead letters and windows render
        await page.click('nav [data-view="dead"]');
        await page.waitForFunction(() => !document.getElementById('dead-empty').hidden ||
                                          document.querySelectorAll('#dead li').length > 0, null, { timeout: 10000 });
        await noHorizontalScroll(page, 'the dead letters');

        // sign out clears the token
        await page.click('#signout');
        out.tokenAfterSignOut = await page.evaluate(() => sessionStorage.getItem('lull.admin.token'));
        out.imgsAtEnd = await page.evaluate(() => document.querySelectorAll('img').length);
        out.dialogs = dialogs;
        if (errors.length) throw new Error('page errors: ' + errors.join('; '));
        if (csp.length) throw new Error('CSP violations: ' + csp.join('; '));
        console.log(JSON.stringify(out));
    } finally {
        await ctx.close();
    }
}

main().catch((e) => { console.error('inbox_page: ' + (e && e.stack || e)); process.exit(1); });
