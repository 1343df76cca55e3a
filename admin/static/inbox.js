// The agents' inbox (GET /inbox): sign in with a token (sessionStorage, sent as a bearer header on every
// call), the live list (GET /api/v1/inbox/events read with fetch(), since EventSource cannot send headers),
// a conversation's history, analysis, reply, take over and hand back, dead letters, live windows and the
// 24-hour overview drawn as inline SVG. Every text from the server goes into the page as textContent.
'use strict';
(function () {
  const KEY = 'lull.admin.token';
  const $ = (id) => document.getElementById(id);
  const state = { token: sessionStorage.getItem(KEY) || '', view: 'inbox', conv: null, convLast: null,
                  convStatus: null, list: [], listAt: 0, seenEsc: null, stream: null, retryMs: 1000,
                  draftKey: null, sending: false, windows: [], windowsAt: 0, pollTimer: null };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function say(text) { $('status').textContent = text; }
  function contactName(c) {
    if (!c) return 'unknown contact';
    const n = [c.first_name, c.last_name].filter(Boolean).join(' ');
    return n || c.profile_name || c.external_id || ('contact ' + c.id);
  }
  function ago(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function when(t) { const d = t ? new Date(t) : null; return d && !isNaN(d) ? d.toLocaleString() : ''; }
  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'inbox-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // ---- API --------------------------------------------------------------------------------------------
  async function api(method, path, body, headers) {
    const h = Object.assign({ Authorization: 'Bearer ' + state.token }, headers || {});
    if (body !== undefined) h['Content-Type'] = 'application/json';
    let r;
    try {
      r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
                              cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      return { status: 0, json: null, error: 'the server cannot be reached' };
    }
    let json = null;
    try { json = await r.json(); } catch (e) { json = null; }
    const error = r.ok ? null : ((json && json.error && json.error.message) || ('HTTP ' + r.status));
    if (r.status === 401 && state.token) signOut('The token was refused (401 unauthorized): sign in again.');
    return { status: r.status, json, error };
  }

  // ---- sign in / out ----------------------------------------------------------------------------------
  async function signIn(token) {
    state.token = token;
    const r = await api('GET', '/api/v1/inbox');
    if (r.status !== 200) {
      state.token = '';
      sessionStorage.removeItem(KEY);
      const msg = r.status === 401 ? 'Wrong token: the server refused it (401 unauthorized).'
        : r.status === 403 ? 'The admin API is disabled on this server (LULL_ADMIN_TOKEN is not set).'
          : 'Cannot sign in: ' + (r.error || 'no answer');
      $('signin-error').textContent = msg;
      $('token').setAttribute('aria-invalid', 'true');
      $('token').focus();
      return false;
    }
    sessionStorage.setItem(KEY, token);
    $('signin-error').textContent = '';
    $('token').removeAttribute('aria-invalid');
    $('token').value = '';
    $('signin').hidden = true;
    $('nav').hidden = false;
    renderList(r.json);
    show('inbox');
    openStream();
    say('Signed in.');
    return true;
  }
  function signOut(why) {
    state.token = '';
    sessionStorage.removeItem(KEY);
    if (state.stream) state.stream.abort();
    state.stream = null;
    clearTimeout(state.pollTimer);
    state.conv = null;
    state.seenEsc = null;
    for (const v of document.querySelectorAll('.view')) v.hidden = true;
    $('nav').hidden = true;
    $('signin').hidden = false;
    $('list').replaceChildren();
    $('history').replaceChildren();
    $('conv').hidden = true;
    $('signin-error').textContent = why || '';
    say(why ? '' : 'Signed out.');
    $('token').focus();
  }

  // ---- views ------------------------------------------------------------------------------------------
  function show(view) {
    state.view = view;
    for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + view;
    for (const b of document.querySelectorAll('nav [data-view]'))
      if (b.dataset.view === view) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    if (view === 'dead') loadDead();
    if (view === 'windows') loadWindows();
    if (view === 'overview') loadOverview();
  }

  // ---- the live list ----------------------------------------------------------------------------------
  async function openStream() {
    if (!state.token) return;
    const ctl = new AbortController();
    state.stream = ctl;
    let r;
    try {
      r = await fetch('/api/v1/inbox/events', { headers: { Authorization: 'Bearer ' + state.token,
                                                           Accept: 'text/event-stream' },
                                                signal: ctl.signal, cache: 'no-store', credentials: 'omit' });
    } catch (e) { r = null; }
    if (r && r.status === 401) { signOut('The token was refused (401 unauthorized): sign in again.'); return; }
    if (r && r.ok && r.body) {
      setLive(true);
      state.retryMs = 1000;
      try { await readEvents(r.body.getReader()); } catch (e) { /* closed: reconnect */ }
    }
    setLive(false);
    if (state.stream !== ctl || ctl.signal.aborted || !state.token) return;
    let wait = state.retryMs;
    state.retryMs = Math.min(state.retryMs * 2, 10000);
    if (!(r && r.ok)) {
      // No stream (refused: every slot taken, 503 too_many_streams; or cut): the list is read at each retry
      // instead, every 5 s at most, so the agent keeps seeing new escalations while the stream is down.
      const l = await api('GET', '/api/v1/inbox');
      if (state.stream !== ctl || ctl.signal.aborted || !state.token) return;
      if (l.status === 200 && l.json) {
        renderList(l.json);
        setLive('polling');
        wait = Math.min(wait, 5000);
      }
    }
    setTimeout(() => { if (state.stream === ctl) openStream(); }, r && r.ok ? 200 : wait);
  }
  // on: true (the stream is open), 'polling' (the list is read every few seconds) or false.
  function setLive(on) {
    const b = $('live');
    b.dataset.state = on === 'polling' ? 'polling' : on ? 'live' : 'off';
    b.textContent = on === 'polling' ? 'polling' : on ? 'live' : 'offline';
    b.title = on === 'polling' ? 'The live stream is not available (the server allows a limited number); '
      + 'the list is read every few seconds.' : '';
  }
  async function readEvents(reader) {
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? '' : line.slice(c + 1);
          if (v.startsWith(' ')) v = v.slice(1);
          if (field === 'event') event = v;
          else if (field === 'data') data.push(v);
          else if (field === 'retry' && /^\d+$/.test(v)) state.retryMs = Number(v);
        }
        if (event === 'list' && data.length) {
          let j = null;
          try { j = JSON.parse(data.join('\n')); } catch (e) { j = null; }
          if (j) renderList(j);
        }
      }
      if (buf.length > 8 * 1024 * 1024) throw new Error('event too large');
    }
  }

  function renderList(j) {
    const items = (j && Array.isArray(j.conversations)) ? j.conversations : [];
    state.list = items;
    state.listAt = Date.now();
    const fresh = [];
    const escIds = new Set();
    const ul = $('list');
    const frag = document.createDocumentFragment();
    for (const c of items) {
      if (c.section === 'escalated') {
        escIds.add(c.id);
        if (state.seenEsc && !state.seenEsc.has(c.id)) fresh.push(c);
      }
      const li = el('li', 'conv ' + c.section);
      li.dataset.id = c.id;
      li.dataset.section = c.section;
      if (state.conv === c.id) li.setAttribute('aria-current', 'true');
      const b = el('button', 'conv-open');
      b.type = 'button';
      const top = el('span', 'top');
      top.append(el('span', 'name', contactName(c.contact)), el('span', 'badge', c.channel),
                 el('span', 'badge ' + c.section, c.section));
      if (c.unread > 0) {
        const u = el('span', 'badge unread', c.unread >= 100 ? '99+' : c.unread);
        u.setAttribute('aria-label', c.unread + ' unread');
        top.append(u);
      }
      b.append(top);
      if (c.section === 'escalated') {
        const w = el('span', 'waiting');
        w.dataset.waitingMs = c.waiting_ms || 0;
        w.textContent = waitingText(c.escalation_reason, c.waiting_ms || 0);
        b.append(w);
      }
      if (c.last_message) b.append(el('span', 'last', (c.last_message.author || '') + ': ' + (c.last_message.body || '')));
      b.addEventListener('click', () => openConv(c.id));
      li.append(b);
      frag.append(li);
      if (state.conv === c.id && (c.last_id !== state.convLast || c.status !== state.convStatus)) loadConv(c.id, false);
    }
    ul.replaceChildren(frag);
    $('list-empty').hidden = items.length > 0;
    state.seenEsc = escIds;
    if (fresh.length === 1) say('New escalation: ' + contactName(fresh[0].contact) + ' — ' + (fresh[0].escalation_reason || ''));
    else if (fresh.length > 1) say(fresh.length + ' new escalations.');
  }
  function waitingText(reason, ms) { return 'Escalated' + (reason ? ': ' + reason : '') + ' · waiting ' + ago(ms); }
  setInterval(() => {
    const extra = Date.now() - state.listAt;
    for (const w of document.querySelectorAll('#list .waiting')) {
      const li = w.closest('li');
      const c = state.list.find((x) => String(x.id) === li.dataset.id);
      if (c) w.textContent = waitingText(c.escalation_reason, Number(w.dataset.waitingMs) + extra);
    }
  }, 15000);

  // ---- a conversation ---------------------------------------------------------------------------------
  async function openConv(id) {
    state.conv = id;
    state.draftKey = null;
    $('reply-text').value = '';
    $('conv-error').textContent = '';
    for (const li of document.querySelectorAll('#list li'))
      if (li.dataset.id === String(id)) li.setAttribute('aria-current', 'true'); else li.removeAttribute('aria-current');
    $('conv').hidden = false;
    await loadConv(id, true);
    $('conv-h').focus();
    api('POST', '/api/v1/inbox/' + id + '/seen', {});
  }
  async function loadConv(id, first) {
    const [s, m] = await Promise.all([api('GET', '/api/v1/conversations/' + id), loadMessages(id)]);
    if (state.conv !== id) return;
    if (s.status !== 200) { $('conv-error').textContent = 'Cannot load the conversation: ' + s.error; return; }
    const c = s.json;
    state.convStatus = c.status;
    $('conv-h').textContent = contactName(c.contact) + ' · ' + c.channel;
    let meta = 'Status: ' + c.status;
    if (c.escalation_reason && c.status === 'escalated') meta += ' (' + c.escalation_reason + ')';
    if (c.paused_until && new Date(c.paused_until) > new Date()) meta += ' · bot paused until ' + when(c.paused_until);
    $('conv-meta').textContent = meta;
    renderAnalysis((c.analyses || [])[(c.analyses || []).length - 1]);
    if (m) renderHistory(m);
    if (!first && m && m.length) state.convLast = m[m.length - 1].id;
    clearTimeout(state.pollTimer);
    const pending = (m || []).some((x) => x.delivery && ['pending', 'sending', 'retry'].includes(x.delivery.status));
    if (pending) state.pollTimer = setTimeout(() => { if (state.conv === id) loadConv(id, false); }, 2000);
  }
  async function loadMessages(id) {
    const all = [];
    let after = 0;
    for (let page = 0; page < 20; page++) {  // at most 20 000 messages
      const r = await api('GET', '/api/v1/conversations/' + id + '/messages?limit=1000&after=' + after);
      if (r.status !== 200) { $('conv-error').textContent = 'Cannot load the messages: ' + r.error; return null; }
      all.push(...(r.json.messages || []));
      if (!r.json.next_after) break;
      after = r.json.next_after;
    }
    state.convLast = all.length ? all[all.length - 1].id : null;
    return all;
  }
  const WHO = { contact: 'Contact', bot: 'Bot', human: 'Person', system: 'System' };
  function renderHistory(msgs) {
    const ol = $('history');
    const atEnd = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
    const frag = document.createDocumentFragment();
    for (const m of msgs) {
      const li = el('li', m.author || (m.direction === 'in' ? 'contact' : 'bot'));
      li.dataset.id = m.id;
      li.append(el('span', 'who', (WHO[m.author] || m.author) + ' · ' + when(m.created_at)));
      li.append(el('span', 'body', m.body || ''));
      if (m.direction === 'out') {
        const d = m.delivery;
        let text = 'Delivery: ' + (d ? d.status : 'none');
        if (d && d.delivery_status) text += ' (' + d.delivery_status + ')';
        const err = d && (d.delivery_error || d.last_error);
        if (err) text += ' — ' + err;
        const failed = d && (['dead', 'unknown', 'cancelled'].includes(d.status) || d.delivery_error);
        li.append(el('span', 'delivery' + (failed ? ' failed' : ''), text));
      }
      frag.append(li);
    }
    ol.replaceChildren(frag);
    if (atEnd) ol.scrollTop = ol.scrollHeight;
  }
  function renderAnalysis(a) {
    const dl = $('analysis');
    dl.replaceChildren();
    if (!a) { dl.append(el('dt', '', 'Analysis'), el('dd', '', 'none yet')); return; }
    const rows = [['Sentiment', a.sentiment + (a.sentiment_confidence != null ? ' (' + a.sentiment_confidence + ')' : '')],
                  ['Intent', a.intent], ['Priority', a.priority],
                  ['Escalate', a.escalate ? 'yes' + (a.escalate_reason ? ': ' + a.escalate_reason : '') : 'no'],
                  ['Entities', a.entities ? JSON.stringify(a.entities) : '']];
    for (const [k, v] of rows) dl.append(el('dt', '', k), el('dd', '', v == null ? '' : v));
  }

  async function sendReply() {
    const id = state.conv, text = $('reply-text').value;
    if (!id || !text.trim() || state.sending) return;
    if (!state.draftKey || state.draftText !== text) state.draftKey = newKey();  // one key per draft
    state.draftText = text;
    state.sending = true;
    $('reply-send').disabled = true;
    const r = await api('POST', '/api/v1/conversations/' + id + '/reply', { body: text },
                        { 'Idempotency-Key': state.draftKey });
    state.sending = false;
    $('reply-send').disabled = false;
    if (r.status === 200) {
      $('reply-text').value = '';
      state.draftKey = null;
      $('conv-error').textContent = '';
      say('Reply sent.');
      loadConv(id, false);
    } else $('conv-error').textContent = 'The reply was not sent: ' + r.error;
  }
  async function convAction(path, body, done) {
    const id = state.conv;
    if (!id) return;
    const r = await api('POST', '/api/v1/conversations/' + id + path, body);
    if (r.status === 200) { $('conv-error').textContent = ''; say(done); loadConv(id, false); }
    else if (r.status === 404 && path === '/takeover' && r.json && r.json.error && r.json.error.code === 'not_found' &&
             /route/.test(r.error)) $('conv-error').textContent = 'Take over is not available on this server.';
    else $('conv-error').textContent = r.error;
  }

  // ---- dead letters, windows --------------------------------------------------------------------------
  async function loadDead() {
    const r = await api('GET', '/api/v1/dead-letters?limit=100');
    const ul = $('dead');
    if (r.status !== 200) { say('Cannot load the dead letters: ' + r.error); return; }
    const rows = r.json.dead_letters || [];
    ul.replaceChildren(...rows.map((d) => {
      const li = el('li');
      li.append(el('div', 'name', '#' + d.id + ' · ' + d.channel + ' · ' + d.status + ' · ' + d.attempts + ' attempts'));
      li.append(el('div', '', 'To ' + d.recipient + (d.conversation_id ? ' · conversation ' + d.conversation_id : '')));
      if (d.last_error) li.append(el('div', 'error', (d.last_status ? d.last_status + ': ' : '') + d.last_error));
      const b = el('button', '', 'Replay');
      b.type = 'button';
      b.setAttribute('aria-label', 'Replay dead letter ' + d.id);
      b.addEventListener('click', async () => {
        const x = await api('POST', '/api/v1/dead-letters/' + d.id + '/replay', {});
        say(x.status === 200 ? 'Dead letter ' + d.id + ' queued again.' : 'Replay failed: ' + x.error);
        loadDead();
      });
      li.append(b);
      return li;
    }));
    $('dead-empty').hidden = rows.length > 0;
  }
  async function loadWindows() {
    const r = await api('GET', '/api/v1/windows?limit=200');
    if (r.status !== 200) { say('Cannot load the windows: ' + r.error); return; }
    state.windows = r.json.windows || [];
    state.windowsAt = Date.now();
    $('windows').replaceChildren(...state.windows.map((w) => {
      const li = el('li');
      li.dataset.id = w.conversation_id;
      li.append(el('div', 'name', 'Conversation ' + w.conversation_id + ' · ' + w.channel + ' · ' + w.messages +
                    ' message' + (w.messages === 1 ? '' : 's') + ' · ' + w.state));
      const cd = el('div', 'countdown');
      cd.dataset.left = w.seconds_left;
      li.append(cd);
      const row = el('div', 'row');
      for (const [op, label] of [['flush', 'Answer now'], ['cancel', 'Cancel']]) {
        const b = el('button', op === 'cancel' ? 'secondary' : '', label);
        b.type = 'button';
        b.setAttribute('aria-label', label + ': conversation ' + w.conversation_id);
        b.addEventListener('click', async () => {
          const x = await api('POST', '/api/v1/windows/' + w.conversation_id + '/' + op, {});
          say(x.status === 200 ? 'Window ' + w.conversation_id + ': ' + op + ' done.' : op + ' failed: ' + x.error);
          loadWindows();
        });
        row.append(b);
      }
      li.append(row);
      return li;
    }));
    $('windows-empty').hidden = state.windows.length > 0;
    tickWindows();
  }
  function tickWindows() {
    const gone = (Date.now() - state.windowsAt) / 1000;
    for (const cd of document.querySelectorAll('#windows .countdown')) {
      const left = Math.max(0, Number(cd.dataset.left) - gone);
      cd.textContent = 'Answered in ' + left.toFixed(1) + ' s';
    }
  }
  setInterval(() => { if (state.view === 'windows' && state.token) tickWindows(); }, 250);
  setInterval(() => { if (state.view === 'windows' && state.token) loadWindows(); }, 5000);

  // ---- overview ---------------------------------------------------------------------------------------
  const SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function chart(title, hours, key) {
    const W = 240, H = 90, pad = 14, values = hours.map((h) => Number(h[key]) || 0);
    const max = Math.max(1, ...values), total = values.reduce((a, b) => a + b, 0);
    const fig = el('figure');
    fig.dataset.key = key;
    const cap = el('figcaption', '', title + ': ' + total);
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img',
                           'aria-label': title + ' per hour over 24 hours: ' + total + ' in all, at most ' + max + ' in one hour' });
    s.append(svg('title', {}, title + ' per hour'));
    const bw = (W - 2) / values.length;
    values.forEach((v, i) => {
      const h = v ? Math.max(1, (H - pad - 2) * v / max) : 0;
      const r = svg('rect', { class: 'bar', x: (1 + i * bw).toFixed(1), y: (H - pad - h).toFixed(1),
                              width: Math.max(1, bw - 1).toFixed(1), height: h.toFixed(1) });
      r.append(svg('title', {}, new Date(hours[i].hour).getHours() + ':00 — ' + v));
      s.append(r);
    });
    s.append(svg('line', { class: 'axis', x1: 0, y1: H - pad, x2: W, y2: H - pad }));
    s.append(svg('text', { x: 1, y: H - 2 }, '-24 h'), svg('text', { x: W - 26, y: H - 2 }, 'now'),
             svg('text', { x: 1, y: 9 }, String(max)));
    fig.append(cap, s);
    return fig;
  }
  async function loadOverview() {
    const r = await api('GET', '/api/v1/stats/overview');
    if (r.status !== 200) { say('Cannot load the overview: ' + r.error); return; }
    const o = r.json, t = o.totals || {}, hours = o.hours || [];
    const totals = [['Conversations', t.conversations], ['Messages in', t.inbound], ['Messages out', t.outbound],
                    ['Answered', t.answered], ['LLM calls', t.llm_calls], ['LLM calls saved', t.llm_calls_saved],
                    ['Escalations', t.escalations], ['Delivery failures', t.delivery_failures],
                    ['Cost (USD)', Number(t.cost_usd || 0).toFixed(4)]];
    $('totals').replaceChildren(...totals.map(([k, v]) => {
      const d = el('div');
      d.append(el('dt', '', k), el('dd', '', v == null ? 0 : v));
      return d;
    }));
    $('charts').replaceChildren(chart('Conversations', hours, 'conversations'), chart('Messages in', hours, 'inbound'),
                                chart('Messages out', hours, 'outbound'), chart('Escalations', hours, 'escalations'),
                                chart('Delivery failures', hours, 'delivery_failures'));
    $('tenants').tBodies[0].replaceChildren(...(o.tenants || []).map((x) => {
      const tr = el('tr');
      tr.append(el('th', '', x.name || x.slug), el('td', '', x.llm_calls), el('td', '', x.tokens),
                el('td', '', Number(x.cost_usd || 0).toFixed(4)));
      tr.firstChild.setAttribute('scope', 'row');
      return tr;
    }));
    if (o.truncated) say('The overview covers the newest rows only (LULL_ADMIN_STATS_ROWS_MAX).');
  }

  // ---- wiring -----------------------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('signin-form').addEventListener('submit', (e) => { e.preventDefault(); signIn($('token').value.trim()); });
    $('signout').addEventListener('click', () => signOut(''));
    for (const b of document.querySelectorAll('nav [data-view]')) b.addEventListener('click', () => show(b.dataset.view));
    $('reply-form').addEventListener('submit', (e) => { e.preventDefault(); sendReply(); });
    $('reply-text').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendReply(); }
    });
    $('takeover').addEventListener('click', () => convAction('/takeover', {}, 'You took over: the bot is paused.'));
    $('handback').addEventListener('click', () => convAction('/handback', { answer_pending: $('answer-pending').checked },
                                                             'Handed back to the bot.'));
    $('dead-refresh').addEventListener('click', loadDead);
    $('windows-refresh').addEventListener('click', loadWindows);
    $('overview-refresh').addEventListener('click', loadOverview);
    if (state.token) signIn(state.token); else $('token').focus();
  });
})();
