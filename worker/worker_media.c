// Media of a job: which entries of the history's messages.media are fetched (the burst's images and voice
// notes, at most LULL_MEDIA_MAX_PER_JOB), the requests (Twilio download, Graph API metadata then download,
// transcription), where credentials may go, and the notes that stand for media in the prompt.
#include "worker_media.h"
#include "lull_crypto.h"
#include "lull_http.h"
#include "lull_json.h"
#include "lull_log.h"
#include "worker_decide.h"
#include "worker_s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_MAX_TASKS 16        // LULL_MEDIA_MAX_PER_JOB's upper bound
#define S_MAX_ENTRIES 10      // media entries of one message looked at
#define S_MAX_REDIRECTS 3
#define S_TRANSCRIPT_MAX 16000  // bytes kept (the column's CHECK counts characters: never more)
#define S_NOTE_MAX 512
#define S_META_LOOKASIDE "lookaside.fbsbx.com"

typedef enum { PH_META_INFO = 0, PH_DOWNLOAD, PH_TRANSCRIBE } s_phase_t;

typedef struct {
    worker_media_job_t *mj;
    int64_t msg_id;
    int entry;           // index in the message's media array
    bool audio;          // a voice note to transcribe (else an image)
    bool meta;           // a Meta media id (else a Twilio URL)
    s_phase_t phase;
    char *url;           // the URL being fetched (owned)
    char media_id[132];
    char hint[64];       // the content type the webhook announced
    int redirects;
    bool done, ok;
    char mime[64];       // the content type received
    char *b64;           // an image's data (owned)
    char *text;          // a voice note's transcript (owned)
    char why[96];        // failure reason (log only)
} s_task_t;

struct worker_media_job {
    worker_media_t *m;
    int64_t conv_id, tenant_id;
    worker_media_done_fn *done;
    void *arg;
    s_task_t tasks[S_MAX_TASKS];
    int ntasks, inflight;
    bool cancelled;
    char **bodies;       // rewritten history bodies (owned)
    size_t nbodies;
};

struct worker_media {
    const worker_cfg_t *cfg;
    lull_db_t *db;
    lull_http_t *http;
    worker_s3_t *s3;     // the archive, or NULL
    bool can_transcribe;
    const char *tr_base, *tr_key;  // borrowed from cfg
};

// ------------------------------------------------------------------------------------------------
// URLs and hosts

// Scheme, host (lowercase) and port of an absolute http(s) URL. 0/-1.
static int s_origin(const char *url, char *scheme, size_t slen, char *host, size_t hlen, long *port)
{
    CURLU *u = curl_url();
    char *sc = NULL, *h = NULL, *p = NULL;
    int rc = -1;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) goto cleanup;
    if (curl_url_get(u, CURLUPART_SCHEME, &sc, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto cleanup;
    if (strcasecmp(sc, "http") != 0 && strcasecmp(sc, "https") != 0) goto cleanup;
    if (strlen(sc) >= slen || strlen(h) >= hlen) goto cleanup;
    for (size_t i = 0; sc[i]; i++) scheme[i] = (char)tolower((unsigned char)sc[i]), scheme[i + 1] = '\0';
    for (size_t i = 0; h[i]; i++) host[i] = (char)tolower((unsigned char)h[i]), host[i + 1] = '\0';
    *port = strtol(p, NULL, 10);
    rc = 0;
cleanup:
    curl_free(sc);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}

// True when a and b are the same scheme, host and port.
static bool s_same_origin(const char *a, const char *b)
{
    char sa[8], sb[8], ha[256], hb[256];
    long pa, pb;
    return s_origin(a, sa, sizeof sa, ha, sizeof ha, &pa) == 0 && s_origin(b, sb, sizeof sb, hb, sizeof hb, &pb) == 0 &&
           strcmp(sa, sb) == 0 && strcmp(ha, hb) == 0 && pa == pb;
}

bool worker_media_same_host(const char *url, const char *host)
{
    char s[8], h[256];
    long p;
    return s_origin(url, s, sizeof s, h, sizeof h, &p) == 0 && strcasecmp(h, host) == 0;
}

// location resolved against base: a new string (curl_free), or NULL.
static char *s_resolve(const char *base, const char *location)
{
    CURLU *u = curl_url();
    char *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK)
        (void)curl_url_get(u, CURLUPART_URL, &out, 0);
    curl_url_cleanup(u);
    return out;
}

static bool s_allowed_host(const worker_media_t *m, const char *url)
{
    for (size_t i = 0; i < m->cfg->media_hosts.n; i++)
        if (worker_media_same_host(url, m->cfg->media_hosts.items[i])) return true;
    return false;
}

// ------------------------------------------------------------------------------------------------
// types

static const char *const s_image_types[] = {"image/jpeg", "image/png", "image/webp", "image/gif", NULL};
static const char *const s_audio_types[] = {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr",
                                            "audio/wav", "audio/x-wav", "audio/webm", "audio/opus", "audio/m4a",
                                            "audio/x-m4a", NULL};

// The bare content type of a header value (parameters dropped, lowercase) into out.
static void s_bare_type(const char *v, char *out, size_t len)
{
    size_t n = 0;
    while (v && *v == ' ') v++;
    for (; v && *v && *v != ';' && *v != ' ' && n + 1 < len; v++) out[n++] = (char)tolower((unsigned char)*v);
    out[n] = '\0';
}

static bool s_type_in(const char *type, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(type, *list) == 0) return true;
    return false;
}

const char *worker_media_kind(const char *kind, const char *content_type)
{
    static const char *const kinds[] = {"image", "audio", "voice", "video", "document", "sticker"};
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0) return i == 2 ? "audio" : kinds[i];
    char t[64];
    s_bare_type(content_type, t, sizeof t);
    if (strncmp(t, "image/", 6) == 0) return "image";
    if (strncmp(t, "audio/", 6) == 0) return "audio";
    if (strncmp(t, "video/", 6) == 0) return "video";
    if (*t) return "document";
    return "file";
}

// ------------------------------------------------------------------------------------------------
// requests

static void s_on_http(const lull_http_resp_t *resp, void *arg);

static void s_fail(s_task_t *t, const char *why)
{
    t->done = true;
    t->ok = false;
    snprintf(t->why, sizeof t->why, "%s", why);
}

// Starts one request of t; a failure to start ends the task.
static void s_send(s_task_t *t, const char *url, const char *bearer, const char *userpwd, const char *ctype,
                   const char *body, size_t body_len)
{
    worker_media_t *m = t->mj->m;
    char auth[600], ct[160];
    lull_http_req_t req = {.url = url, .timeout_ms = m->cfg->media_timeout_ms, .userpwd = userpwd,
                           .body = body, .body_len = body_len};
    int nh = 0;
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        req.headers[nh++] = auth;
    }
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        req.headers[nh++] = ct;
    }
    if (lull_http_start(m->http, &req, s_on_http, t) != 0) {
        s_fail(t, "cannot start the request");
        return;
    }
    t->mj->inflight++;
}

// GET url for t's download: credentials only to the provider's own host; other hosts only when allowed, bare.
static void s_download(s_task_t *t, const char *url)
{
    worker_media_t *m = t->mj->m;
    const worker_cfg_t *cfg = m->cfg;
    char *copy = strdup(url);
    if (!copy) {
        s_fail(t, "out of memory");
        return;
    }
    free(t->url);
    t->url = copy;
    t->phase = PH_DOWNLOAD;
    char userpwd[300];
    if (!t->meta && s_same_origin(url, cfg->twilio_base)) {
        snprintf(userpwd, sizeof userpwd, "%s:%s", cfg->twilio_sid, cfg->twilio_token);
        s_send(t, url, NULL, *cfg->twilio_sid ? userpwd : NULL, NULL, NULL, 0);
    } else if (t->meta && ((strncasecmp(url, "https://", 8) == 0 && worker_media_same_host(url, S_META_LOOKASIDE)) ||
                           s_same_origin(url, cfg->meta_base))) {
        s_send(t, url, cfg->meta_token, NULL, NULL, NULL, 0);
    } else if (s_allowed_host(m, url)) {
        s_send(t, url, NULL, NULL, NULL, NULL, 0);
    } else {
        s_fail(t, "media host not allowed");
    }
}

// A multipart/form-data body of the model and the audio file. Caller frees; NULL when out of memory.
static char *s_multipart(const char *model, const char *mime, const char *data, size_t len, const char *boundary,
                         size_t *out_len)
{
    const char *ext = strstr(mime, "ogg") ? "ogg" : strstr(mime, "mpeg") ? "mp3" : strstr(mime, "wav") ? "wav"
                      : strstr(mime, "webm") ? "webm" : strstr(mime, "amr") ? "amr" : "m4a";
    char head[1024], tail[64];
    int hn = snprintf(head, sizeof head,
                      "--%s\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n%s\r\n"
                      "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"voice.%s\"\r\n"
                      "Content-Type: %s\r\n\r\n",
                      boundary, model, boundary, ext, mime);
    int tn = snprintf(tail, sizeof tail, "\r\n--%s--\r\n", boundary);
    if (hn < 0 || (size_t)hn >= sizeof head || tn < 0 || (size_t)tn >= sizeof tail) return NULL;
    char *b = malloc((size_t)hn + len + (size_t)tn + 1);
    if (!b) return NULL;
    memcpy(b, head, (size_t)hn);
    memcpy(b + hn, data, len);
    memcpy(b + (size_t)hn + len, tail, (size_t)tn + 1);
    *out_len = (size_t)hn + len + (size_t)tn;
    return b;
}

// A download arrived whole: an image is kept as base64, a voice note goes to the transcription.
static void s_downloaded(s_task_t *t, const lull_http_resp_t *resp)
{
    worker_media_t *m = t->mj->m;
    char type[64];
    const char *ct = lull_http_header(resp, "Content-Type");
    s_bare_type(ct && *ct ? ct : t->hint, type, sizeof type);
    if (!s_type_in(type, t->audio ? s_audio_types : s_image_types)) {
        s_fail(t, "content type not allowed");
        return;
    }
    if (resp->body_len == 0) {
        s_fail(t, "empty media");
        return;
    }
    snprintf(t->mime, sizeof t->mime, "%s", type);
    worker_s3_put(m->s3, t->mj->tenant_id, t->mj->conv_id, t->msg_id, t->entry, type, resp->body, resp->body_len);
    if (!t->audio) {
        size_t cap = 4 * ((resp->body_len + 2) / 3) + 1;
        t->b64 = malloc(cap);
        if (!t->b64 || lull_base64_encode((const uint8_t *)resp->body, resp->body_len, t->b64, cap) < 0) {
            s_fail(t, "out of memory");
            return;
        }
        t->done = t->ok = true;
        return;
    }
    char url[1024], ctype[96], boundary[48];
    if (worker_llm_url(m->tr_base, "/audio/transcriptions", url, sizeof url) != 0) {
        s_fail(t, "transcription URL too long");
        return;
    }
    snprintf(boundary, sizeof boundary, "lull-%016llx", (unsigned long long)t->msg_id * 2654435761ULL + (unsigned)t->entry);
    snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=%s", boundary);
    size_t blen = 0;
    char *body = s_multipart(m->cfg->transcribe_model, type, resp->body, resp->body_len, boundary, &blen);
    if (!body) {
        s_fail(t, "out of memory");
        return;
    }
    t->phase = PH_TRANSCRIBE;
    s_send(t, url, m->tr_key, NULL, ctype, body, blen);
    free(body);
}

// Stores a transcript once (a retried job reads it back instead of transcribing again).
static void s_store_transcript(s_task_t *t)
{
    worker_media_t *m = t->mj->m;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)t->msg_id);
    const char *p[] = {id, t->text};
    PGresult *r = lull_db_exec(m->db, "UPDATE messages SET transcript = $2 WHERE id = $1 AND transcript IS NULL", 2, p);
    if (!r)
        LOG_WARN("media.transcript_not_stored", "the transcript is used but could not be stored", "conv",
                 LI(t->mj->conv_id), "message", LI(t->msg_id), "error", LS(lull_db_error(m->db)));
    PQclear(r);
}

// The transcription's answer: {"text": …}.
static void s_transcribed(s_task_t *t, const lull_http_resp_t *resp)
{
    char err[96];
    cJSON *doc = lull_json_parse(resp->body, resp->body_len, LULL_JSON_MAX_DEPTH, err, sizeof err);
    const cJSON *text = doc ? cJSON_GetObjectItemCaseSensitive(doc, "text") : NULL;
    if (!cJSON_IsString(text) || !*text->valuestring) {
        s_fail(t, "transcription answer without text");
        cJSON_Delete(doc);
        return;
    }
    size_t n = strlen(text->valuestring);
    if (n > S_TRANSCRIPT_MAX) {
        n = S_TRANSCRIPT_MAX;
        while (n > 0 && ((unsigned char)text->valuestring[n] & 0xC0) == 0x80) n--;  // a whole UTF-8 character
    }
    t->text = strndup(text->valuestring, n);
    cJSON_Delete(doc);
    if (!t->text) {
        s_fail(t, "out of memory");
        return;
    }
    t->done = t->ok = true;
    s_store_transcript(t);
}

// The Graph API's media metadata: {"url", "mime_type", …}; then the download.
static void s_meta_info(s_task_t *t, const lull_http_resp_t *resp)
{
    char err[96];
    cJSON *doc = lull_json_parse(resp->body, resp->body_len, LULL_JSON_MAX_DEPTH, err, sizeof err);
    const cJSON *url = doc ? cJSON_GetObjectItemCaseSensitive(doc, "url") : NULL;
    const cJSON *mime = doc ? cJSON_GetObjectItemCaseSensitive(doc, "mime_type") : NULL;
    if (cJSON_IsString(mime) && !*t->hint) snprintf(t->hint, sizeof t->hint, "%s", mime->valuestring);
    if (!cJSON_IsString(url) || strlen(url->valuestring) > 2048) s_fail(t, "media metadata without url");
    else s_download(t, url->valuestring);
    cJSON_Delete(doc);
}

static void s_end_if_idle(worker_media_job_t *mj);

static void s_on_http(const lull_http_resp_t *resp, void *arg)
{
    s_task_t *t = arg;
    worker_media_job_t *mj = t->mj;
    mj->inflight--;
    if (mj->cancelled) {
        s_end_if_idle(mj);
        return;
    }
    if (resp->curl_code != 0) {
        s_fail(t, resp->curl_code == CURLE_WRITE_ERROR ? "media larger than LULL_MEDIA_MAX_BYTES"
                  : resp->timed_out                    ? "timeout"
                                                       : "transport error");
    } else if (t->phase == PH_DOWNLOAD && resp->status >= 300 && resp->status < 400 && resp->status != 304) {
        const char *loc = lull_http_header(resp, "Location");
        char *next = loc && *loc ? s_resolve(t->url, loc) : NULL;
        if (!next) s_fail(t, "redirect without a usable Location");
        else if (++t->redirects > S_MAX_REDIRECTS) s_fail(t, "too many redirects");
        else s_download(t, next);
        curl_free(next);
    } else if (resp->status < 200 || resp->status >= 300) {
        char why[96];
        snprintf(why, sizeof why, "%s answered HTTP %ld",
                 t->phase == PH_TRANSCRIBE ? "transcription" : t->phase == PH_META_INFO ? "Graph API" : "media host",
                 resp->status);
        s_fail(t, why);
    } else if (t->phase == PH_META_INFO) {
        s_meta_info(t, resp);
    } else if (t->phase == PH_DOWNLOAD) {
        s_downloaded(t, resp);
    } else {
        s_transcribed(t, resp);
    }
    if (t->done)
        LOG_INFO(t->ok ? "media.read" : "media.failed", t->ok ? "media read" : "media not read; the prompt says so", "conv",
                 LI(mj->conv_id), "message", LI(t->msg_id), "kind", LS(t->audio ? "audio" : "image"), "type", LS(t->mime),
                 "reason", LS(t->ok ? "" : t->why));
    s_end_if_idle(mj);
}

static void s_job_free(worker_media_job_t *mj)
{
    for (int i = 0; i < mj->ntasks; i++) {
        free(mj->tasks[i].url);
        free(mj->tasks[i].b64);
        free(mj->tasks[i].text);
    }
    for (size_t i = 0; i < mj->nbodies; i++) free(mj->bodies[i]);
    free(mj->bodies);
    free(mj);
}

static void s_end_if_idle(worker_media_job_t *mj)
{
    if (mj->inflight > 0) return;
    if (mj->cancelled) s_job_free(mj);
    else if (mj->done) mj->done(mj, mj->arg);
}

// ------------------------------------------------------------------------------------------------
// jobs

static const char *s_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

// Adds a task for entry e of message h when it is fetched. True when added.
static bool s_plan(worker_media_job_t *mj, const worker_hist_t *h, int e, const cJSON *m, bool audio)
{
    worker_media_t *self = mj->m;
    if (mj->ntasks >= self->cfg->media_max_per_job || mj->ntasks >= S_MAX_TASKS) return false;
    const char *url = s_str(m, "url"), *mid = s_str(m, "media_id"), *prov = s_str(m, "provider");
    bool meta = prov && strcmp(prov, "meta") == 0;
    if (meta ? !mid || !*self->cfg->meta_token || strlen(mid) >= sizeof mj->tasks[0].media_id
             : !url || strlen(url) > 2048)
        return false;
    s_task_t *t = &mj->tasks[mj->ntasks++];
    *t = (s_task_t){.mj = mj, .msg_id = h->id, .entry = e, .audio = audio, .meta = meta};
    const char *hint = s_str(m, meta ? "mime_type" : "content_type");
    snprintf(t->hint, sizeof t->hint, "%s", hint ? hint : "");
    if (meta) snprintf(t->media_id, sizeof t->media_id, "%s", mid);
    else t->url = strdup(url);
    return true;
}

// The task of entry e of message id, or NULL.
static const s_task_t *s_task_of(const worker_media_job_t *mj, int64_t id, int e)
{
    for (int i = 0; i < mj->ntasks; i++)
        if (mj->tasks[i].msg_id == id && mj->tasks[i].entry == e) return &mj->tasks[i];
    return NULL;
}

worker_media_job_t *worker_media_start(worker_media_t *self, worker_load_t *l, int64_t conv_id,
                                       worker_media_done_fn *done, void *arg)
{
    worker_media_job_t *mj = calloc(1, sizeof *mj);
    if (!mj) return NULL;
    mj->m = self;
    mj->conv_id = conv_id;
    mj->tenant_id = l->tenant_id;
    for (size_t i = 0; i < l->nhistory; i++) {
        const worker_hist_t *h = &l->history[i];
        if (!h->inbound || h->id <= l->answered_upto || !h->media || strcmp(h->media, "[]") == 0) continue;
        cJSON *arr = cJSON_Parse(h->media), *m;
        int e = 0;
        cJSON_ArrayForEach(m, arr)
        {
            if (e >= S_MAX_ENTRIES) break;
            const char *kind = worker_media_kind(s_str(m, "kind"), s_str(m, "content_type") ? s_str(m, "content_type")
                                                                                          : s_str(m, "mime_type"));
            bool image = strcmp(kind, "image") == 0, audio = strcmp(kind, "audio") == 0;
            if (image || (audio && self->can_transcribe && !(h->transcript && *h->transcript)))
                (void)s_plan(mj, h, e, m, audio);
            e++;
        }
        cJSON_Delete(arr);
    }
    for (int i = 0; i < mj->ntasks; i++) {  // all planned first: a start that fails ends only its task
        s_task_t *t = &mj->tasks[i];
        if (t->meta) {
            char url[1024];
            int w = snprintf(url, sizeof url, "%s/%s/%s", self->cfg->meta_base, self->cfg->meta_version, t->media_id);
            t->phase = PH_META_INFO;
            if (w < 0 || (size_t)w >= sizeof url) s_fail(t, "Graph API URL too long");
            else s_send(t, url, self->cfg->meta_token, NULL, NULL, NULL, 0);
        } else if (!t->url) {
            s_fail(t, "out of memory");
        } else {
            char *u = strdup(t->url);
            if (u) s_download(t, u);
            else s_fail(t, "out of memory");
            free(u);
        }
    }
    mj->done = done;  // set last: nothing ends inside the start
    mj->arg = arg;
    return mj;
}

bool worker_media_pending(const worker_media_job_t *mj)
{
    return mj && mj->inflight > 0;
}

// Appends a note to buf (cap bytes), on a new line when buf is not empty.
static void s_note(char *buf, size_t cap, const char *text)
{
    size_t n = strlen(buf);
    if (n + 2 >= cap) return;
    if (n > 0) buf[n++] = '\n', buf[n] = '\0';
    snprintf(buf + n, cap - n, "%s", text);
}

// The note of a transcript: "[voice note, transcribed] <text>" (clipped to one message's text).
static void s_note_transcript(char *buf, size_t cap, const char *text)
{
    char note[WORKER_MAX_BODY_TEXT];
    snprintf(note, sizeof note, "[voice note, transcribed] %s", text);
    s_note(buf, cap, note);
}

// A file name fit for the prompt: printable, no quotes, at most 100 bytes.
static void s_clean_name(const char *in, char *out, size_t len)
{
    size_t n = 0;
    for (; in && *in && n + 1 < len && n < 100; in++)
        out[n++] = (unsigned char)*in < 0x20 || *in == '"' || *in == '[' || *in == ']' ? '_' : *in;
    out[n] = '\0';
}

// The notes of message h (its media, its transcript) into notes (cap bytes).
static void s_notes_of(const worker_media_job_t *mj, const worker_hist_t *h, bool burst, char *notes, size_t cap)
{
    cJSON *arr = cJSON_Parse(h->media), *m;
    int e = 0;
    bool transcript_used = false;
    cJSON_ArrayForEach(m, arr)
    {
        if (e >= S_MAX_ENTRIES) break;
        const char *ct = s_str(m, "content_type") ? s_str(m, "content_type") : s_str(m, "mime_type");
        const char *kind = worker_media_kind(s_str(m, "kind"), ct);
        const s_task_t *t = s_task_of(mj, h->id, e++);
        if (strcmp(kind, "image") == 0) {
            if (!burst) s_note(notes, cap, "[the customer sent an image earlier]");
            else if (t && t->ok) s_note(notes, cap, "[the customer sent an image: attached]");
            else if (t) s_note(notes, cap, "[the customer sent an image that could not be read]");
            else s_note(notes, cap, "[the customer sent an image that is not shown]");
        } else if (strcmp(kind, "audio") == 0) {
            const char *text = h->transcript && *h->transcript ? h->transcript : t && t->ok ? t->text : NULL;
            if (text && !transcript_used) s_note_transcript(notes, cap, text);
            else if (!burst) s_note(notes, cap, "[the customer sent a voice note earlier]");
            else if (t) s_note(notes, cap, "[the customer sent a voice note that could not be transcribed]");
            else s_note(notes, cap, "[the customer sent a voice note (not transcribed)]");
            transcript_used = transcript_used || text;
        } else {
            char name[128], type[64];
            s_clean_name(s_str(m, "filename"), name, sizeof name);
            s_clean_name(ct, type, sizeof type);
            char what[300];
            snprintf(what, sizeof what, "a %s%s%s%s", kind, *name ? " \"" : "", name, *name ? "\"" : "");
            char note[512];
            if (*type) snprintf(note, sizeof note, "[the customer sent %s (%s)]", what, type);
            else snprintf(note, sizeof note, "[the customer sent %s]", what);
            s_note(notes, cap, note);
        }
    }
    cJSON_Delete(arr);
}

int worker_media_apply(worker_media_job_t *mj, worker_load_t *l)
{
    mj->bodies = l->nhistory ? calloc(l->nhistory, sizeof *mj->bodies) : NULL;
    if (l->nhistory && !mj->bodies) return -1;
    for (size_t i = 0; i < l->nhistory; i++) {
        worker_hist_t *h = &l->history[i];
        if (!h->inbound || ((!h->media || strcmp(h->media, "[]") == 0) && !(h->transcript && *h->transcript))) continue;
        char notes[WORKER_MAX_BODY_TEXT] = "";
        if (h->media && strcmp(h->media, "[]") != 0) s_notes_of(mj, h, h->id > l->answered_upto, notes, sizeof notes);
        else s_note_transcript(notes, sizeof notes, h->transcript);
        if (!*notes) continue;
        size_t n = strlen(h->body) + strlen(notes) + 2;
        char *b = malloc(n);
        if (!b) return -1;
        snprintf(b, n, "%s%s%s", h->body, *h->body ? "\n" : "", notes);
        mj->bodies[mj->nbodies++] = b;
        h->body = b;
    }
    return 0;
}

int worker_media_add_images(const worker_media_job_t *mj, int64_t msg_id, worker_conv_t *conv)
{
    for (int i = 0; mj && i < mj->ntasks; i++) {
        const s_task_t *t = &mj->tasks[i];
        if (t->msg_id != msg_id || t->audio || !t->ok) continue;
        if (worker_conv_add(conv, WORKER_ITEM_IMAGE, t->b64, NULL, t->mime, NULL) != 0) return -1;
    }
    return 0;
}

void worker_media_job_cancel(worker_media_job_t **mj_p)
{
    if (!mj_p || !*mj_p) return;
    worker_media_job_t *mj = *mj_p;
    *mj_p = NULL;
    mj->cancelled = true;
    if (mj->inflight == 0) s_job_free(mj);
}

// ------------------------------------------------------------------------------------------------
// the client

worker_media_t *worker_media_new(const worker_cfg_t *cfg, lull_loop_t *loop, lull_db_t *db)
{
    worker_media_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cfg = cfg;
    self->db = db;
    self->http = lull_http_new(loop, (size_t)cfg->media_max_bytes, cfg->media_timeout_ms, 0);
    if (!self->http) {
        free(self);
        return NULL;
    }
    self->s3 = worker_s3_new(cfg, self->http, db);  // NULL = no archive
    self->tr_base = *cfg->transcribe_base ? cfg->transcribe_base : cfg->openai_base;
    self->tr_key = *cfg->transcribe_key ? cfg->transcribe_key : cfg->openai_key;
    self->can_transcribe = *self->tr_key && *self->tr_base && *cfg->transcribe_model;
    return self;
}

void worker_media_destroy(worker_media_t **self_p)
{
    if (!self_p || !*self_p) return;
    worker_media_t *self = *self_p;
    lull_http_destroy(&self->http);  // the archive's requests end here too
    worker_s3_destroy(&self->s3);
    free(self);
    *self_p = NULL;
}
