// GET /chat: a small, self-contained web chat page (no external assets). It opens a session
// (POST /api/v1/chat/session), sends messages (POST /api/v1/chat/message) and shows the replies as they
// arrive on GET /api/v1/chat/stream/{session} (EventSource). The page is kept one line per literal
// (ISO C caps the length of one string literal) and joined once at start.
#include "ingress_page.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_lines[] = {
    "<!doctype html>\n",
    "<html lang=\"en\">\n",
    "<head>\n",
    "<meta charset=\"utf-8\">\n",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    "<title>lull web chat</title>\n",
    "<style>\n",
    ":root { color-scheme: light; --accent: #2f5d8a; --bg: #f4f5f7; --me: #2f5d8a; --bot: #ffffff; --line: #d8dce2; }\n",
    "* { box-sizing: border-box; }\n",
    "body { margin: 0; font: 16px/1.45 system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif; background: var(--bg); color: #1d2330; }\n",
    "main { max-width: 42rem; margin: 0 auto; min-height: 100vh; display: flex; flex-direction: column; background: #fff; border-left: 1px solid var(--line); border-right: 1px solid var(--line); }\n",
    "header { padding: .9rem 1.2rem; border-bottom: 1px solid var(--line); display: flex; align-items: baseline; justify-content: space-between; gap: 1rem; }\n",
    "h1 { font-size: 1.15rem; margin: 0; }\n",
    "#status { font-size: .85rem; color: #5a6272; }\n",
    "#status[data-state=\"live\"]::before { content: \"\\25CF\"; margin-right: .35rem; color: #2e8540; }\n",
    "#status[data-state=\"down\"]::before { content: \"\\25CF\"; margin-right: .35rem; color: #b3261e; }\n",
    "#log { flex: 1; list-style: none; margin: 0; padding: 1rem 1.2rem; overflow-y: auto; background: var(--bg); }\n",
    "#log li { max-width: 80%; margin: .35rem 0; padding: .55rem .8rem; border-radius: .9rem; white-space: pre-wrap; overflow-wrap: anywhere; }\n",
    "#log li.contact { margin-left: auto; background: var(--me); color: #fff; border-bottom-right-radius: .25rem; }\n",
    "#log li.bot, #log li.human, #log li.system { background: var(--bot); border: 1px solid var(--line); border-bottom-left-radius: .25rem; }\n",
    "#log li .who { display: block; font-size: .75rem; opacity: .75; margin-bottom: .1rem; }\n",
    "#log li.pending { opacity: .6; }\n",
    "#log li.failed { background: #fdecea; color: #8c1d18; }\n",
    "#log li.empty { max-width: none; text-align: center; color: #5a6272; background: none; border: 0; font-size: .9rem; }\n",
    "form { display: flex; gap: .5rem; padding: .8rem 1.2rem; border-top: 1px solid var(--line); }\n",
    "label.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }\n",
    "#text { flex: 1; font: inherit; padding: .55rem .7rem; border: 1px solid #aeb4bf; border-radius: .5rem; }\n",
    "#text:focus, button:focus { outline: 3px solid #9cc3ea; outline-offset: 1px; }\n",
    "button { font: inherit; padding: .55rem 1.1rem; border: 0; border-radius: .5rem; background: var(--accent); color: #fff; cursor: pointer; }\n",
    "button:disabled { background: #8a96a6; cursor: default; }\n",
    "</style>\n",
    "</head>\n",
    "<body>\n",
    "<main>\n",
    "<header><h1>Chat with us</h1><span id=\"status\" role=\"status\" data-state=\"down\">connecting…</span></header>\n",
    "<ol id=\"log\" role=\"log\" aria-live=\"polite\" aria-label=\"Conversation\"><li class=\"empty\" id=\"empty\">Say hello: we answer in a moment.</li></ol>\n",
    "<form id=\"form\" autocomplete=\"off\">\n",
    "<label class=\"sr\" for=\"text\">Your message</label>\n",
    "<input id=\"text\" name=\"message\" maxlength=\"4000\" placeholder=\"Type a message…\" required disabled>\n",
    "<button id=\"send\" type=\"submit\" disabled>Send</button>\n",
    "</form>\n",
    "</main>\n",
    "<script>\n",
    "(function () {\n",
    "  \"use strict\";\n",
    "  var log = document.getElementById(\"log\"), form = document.getElementById(\"form\");\n",
    "  var text = document.getElementById(\"text\"), send = document.getElementById(\"send\");\n",
    "  var status = document.getElementById(\"status\");\n",
    "  var api = \"/api/v1/chat/\", seen = {}, session = null, source = null, lastId = 0;\n",
    "  var names = { contact: \"You\", bot: \"Assistant\", human: \"Agent\", system: \"System\" };\n",
    "\n",
    "  function setStatus(state, label) { status.setAttribute(\"data-state\", state); status.textContent = label; }\n",
    "  function add(author, body, id, cls) {\n",
    "    var empty = document.getElementById(\"empty\");\n",
    "    if (empty) empty.remove();\n",
    "    if (id && seen[id]) return seen[id];\n",
    "    var li = document.createElement(\"li\"), who = document.createElement(\"span\");\n",
    "    li.className = author + (cls ? \" \" + cls : \"\");\n",
    "    who.className = \"who\"; who.textContent = names[author] || author;\n",
    "    li.appendChild(who); li.appendChild(document.createTextNode(body));\n",
    "    if (id) { li.dataset.id = id; seen[id] = li; }\n",
    "    log.appendChild(li); log.scrollTop = log.scrollHeight;\n",
    "    return li;\n",
    "  }\n",
    "  function post(path, obj) {\n",
    "    return fetch(api + path, { method: \"POST\", headers: { \"Content-Type\": \"application/json\" }, body: JSON.stringify(obj) })\n",
    "      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error((j.error && j.error.message) || r.status); return j; }); });\n",
    "  }\n",
    "  function listen() {\n",
    "    source = new EventSource(api + \"stream/\" + encodeURIComponent(session) + \"?after=\" + lastId);\n",
    "    source.onopen = function () { setStatus(\"live\", \"connected\"); };\n",
    "    source.onerror = function () {\n",
    "      setStatus(\"down\", \"reconnecting…\");\n",
    "      // EventSource gives up on an error status (503 while the database restarts, 429): open a new one\n",
    "      if (source.readyState === EventSource.CLOSED) setTimeout(listen, 3000);\n",
    "    };\n",
    "    source.addEventListener(\"message\", function (e) {\n",
    "      var m; try { m = JSON.parse(e.data); } catch (err) { return; }\n",
    "      if (m.id > lastId) lastId = m.id;\n",
    "      add(m.author || \"bot\", m.body || \"\", String(m.id));\n",
    "    });\n",
    "  }\n",
    "  function ready() { text.disabled = false; send.disabled = false; text.focus(); listen(); }\n",
    "  function start() {\n",
    "    var saved = null;\n",
    "    try { saved = sessionStorage.getItem(\"lull.session\"); } catch (e) {}\n",
    "    if (saved) {\n",
    "      fetch(api + \"history/\" + encodeURIComponent(saved)).then(function (r) {\n",
    "        if (!r.ok) throw new Error(\"gone\");\n",
    "        return r.json();\n",
    "      }).then(function (h) {\n",
    "        session = saved;\n",
    "        (h.messages || []).forEach(function (m) {\n",
    "          add(m.author, m.body, String(m.id));\n",
    "          if (m.direction === \"out\" && m.id > lastId) lastId = m.id;\n",
    "        });\n",
    "        ready();\n",
    "      }).catch(function () { try { sessionStorage.removeItem(\"lull.session\"); } catch (e) {} fresh(); });\n",
    "    } else fresh();\n",
    "  }\n",
    "  function fresh() {\n",
    "    post(\"session\", {}).then(function (j) {\n",
    "      session = j.sessionId;\n",
    "      try { sessionStorage.setItem(\"lull.session\", session); } catch (e) {}\n",
    "      ready();\n",
    "    }).catch(function (e) { setStatus(\"down\", \"cannot start a chat: \" + e.message); });\n",
    "  }\n",
    "  form.addEventListener(\"submit\", function (e) {\n",
    "    e.preventDefault();\n",
    "    var body = text.value.trim();\n",
    "    if (!body || !session) return;\n",
    "    text.value = \"\";\n",
    "    var li = add(\"contact\", body, null, \"pending\");\n",
    "    post(\"message\", { sessionId: session, message: body }).then(function (j) {\n",
    "      li.classList.remove(\"pending\");\n",
    "      if (j.messageId) { li.dataset.id = String(j.messageId); seen[String(j.messageId)] = li; }\n",
    "    }).catch(function (err) {\n",
    "      li.classList.remove(\"pending\"); li.classList.add(\"failed\");\n",
    "      li.lastChild.textContent = body + \"  (not sent: \" + err.message + \")\";\n",
    "    });\n",
    "  });\n",
    "  start();\n",
    "})();\n",
    "</script>\n",
    "</body>\n",
    "</html>\n",
};

// The page as a shareable response (Content-Type text/html); the caller destroys it. NULL when out of memory.
struct MHD_Response *ingress_page_response(void)
{
    size_t n = 0, nl = sizeof s_lines / sizeof s_lines[0];
    for (size_t i = 0; i < nl; i++) n += strlen(s_lines[i]);
    char *page = malloc(n + 1);
    if (!page) return NULL;
    size_t off = 0;
    for (size_t i = 0; i < nl; i++) {
        size_t k = strlen(s_lines[i]);
        memcpy(page + off, s_lines[i], k);
        off += k;
    }
    page[off] = '\0';
    struct MHD_Response *r = MHD_create_response_from_buffer(off, page, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(page);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                            "connect-src 'self'; base-uri 'none'; form-action 'none'");
    return r;
}
