// Drives the web chat page (GET /chat) in Debian's headless Chromium with playwright-core: waits for the
// session and the stream, sends a message, waits for the bot's reply to appear in the page, takes a
// screenshot, reloads (same session from the history, no duplicates), waits until the server has ended the stream
// at its lifetime and the page has opened the next one, and gets a second reply live. With
// ADMIN_URL and ADMIN_TOKEN: sends a message that escalates, waits for the page's notice that a person will
// answer (the stream's escalation event), has a person reply through lull-admin and waits for it to appear
// live, marked as from a person. Usage: node webchat_page.js BASE_URL SCREENSHOT_PATH USER_DATA_DIR
// [ADMIN_URL ADMIN_TOKEN]. Prints one JSON line {"session","sent","reply","bubbles","streams","notice","person"}
// (streams: stream requests the page made); exits 1 with a reason on failure.
'use strict';
const { launch } = require('./chromium');

async function main() {
    const [base, shot, profile, admin, token] = process.argv.slice(2);
    if (!base || !shot || !profile) throw new Error('usage: webchat_page.js BASE_URL SCREENSHOT USER_DATA_DIR');
    const ctx = await launch(profile, 720, 640);
    try {
        const page = ctx.pages()[0] || await ctx.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        let streams = 0;  // GET /api/v1/chat/stream/… requests the page made (one per reconnect)
        page.on('request', (r) => { if (r.url().includes('/api/v1/chat/stream/')) streams++; });
        const until = async (cond, ms, what) => {
            for (const end = Date.now() + ms; !cond();) {
                if (Date.now() > end) throw new Error('timed out waiting for ' + what);
                await new Promise((ok) => setTimeout(ok, 20));
            }
        };
        const resp = await page.goto(base + '/chat');
        if (!resp || resp.status() !== 200) throw new Error('GET /chat answered ' + (resp && resp.status()));
        await page.waitForSelector('#text:not([disabled])', { timeout: 15000 });
        await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
        const session = await page.evaluate(() => sessionStorage.getItem('lull.session'));
        const sent = 'Hello! Do you have the blue kettle in stock?';
        await page.fill('#text', sent);
        await page.press('#text', 'Enter');
        await page.waitForSelector('#log li.contact:not(.pending)', { timeout: 15000 });
        await page.waitForSelector('#log li.bot', { timeout: 30000 });
        const reply = await page.$eval('#log li.bot', (li) => li.lastChild.textContent);
        await page.screenshot({ path: shot, fullPage: true });
        // a reload continues the same session from the history, without duplicates, and stays live
        await page.reload();
        await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
        await page.waitForSelector('#log li.bot', { timeout: 15000 });
        const again = await page.evaluate(() => sessionStorage.getItem('lull.session'));
        if (again !== session) throw new Error('the reload opened another session: ' + again);
        // the server ends each stream after LULL_CHAT_STREAM_LIFETIME_MS: the page opens the next one by itself
        const opened = streams;
        await until(() => streams >= opened + 1, 20000, 'the page to reconnect after a stream ended');
        await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
        await page.fill('#text', 'And a wool scarf?');
        await page.press('#text', 'Enter');
        await page.waitForFunction(() => document.querySelectorAll('#log li.bot').length >= 2, null, { timeout: 30000 });
        const bubbles = await page.$$eval('#log li', (lis) => lis.map((li) => li.className + ':' + li.lastChild.textContent));
        let notice = null, person = null;
        if (admin) {
            await page.fill('#text', 'I want to talk to a manager please');
            await page.press('#text', 'Enter');
            await page.waitForSelector('#log li.notice', { timeout: 30000 });
            notice = await page.$eval('#log li.notice', (li) => li.textContent);
            const auth = { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' };
            const list = await (await fetch(admin + '/api/v1/conversations?channel=webchat&q=' + encodeURIComponent(session),
                                            { headers: auth })).json();
            const conv = list.conversations && list.conversations[0] && list.conversations[0].id;
            if (!conv) throw new Error('no conversation for the session in lull-admin: ' + JSON.stringify(list));
            const r = await fetch(admin + '/api/v1/conversations/' + conv + '/reply',
                                  { method: 'POST', headers: auth, body: JSON.stringify({ body: 'Hi, Maria here: I can help.' }) });
            if (r.status !== 200) throw new Error('the person\'s reply answered ' + r.status);
            await page.waitForSelector('#log li.person', { timeout: 30000 });
            person = await page.$eval('#log li.person', (li) => ({ who: li.firstChild.textContent, body: li.lastChild.textContent }));
            await page.screenshot({ path: shot.replace(/\.png$/, '') + '-person.png', fullPage: true });
        }
        if (errors.length) throw new Error('page errors: ' + errors.join('; '));
        console.log(JSON.stringify({ session, sent, reply, bubbles, streams, notice, person }));
    } finally {
        await ctx.close();
    }
}

main().catch((e) => { console.error('webchat_page: ' + (e && e.stack || e)); process.exit(1); });
