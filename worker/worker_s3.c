// The media archive: S3 PUTs through the media client's libcurl multi, and the stored key on the message.
#include "worker_s3.h"
#include "lull_crypto.h"
#include "lull_log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker_s3 {
    const worker_cfg_t *cfg;
    lull_http_t *http;
    lull_db_t *db;
    char sigv4[96];      // "aws:amz:REGION:s3"
    char *userpwd;       // "access:secret" (owned)
};

typedef struct {
    worker_s3_t *s3;
    int64_t conv_id, msg_id;
    int entry;
    char key[160];
} s_put_t;

const char *worker_s3_ext(const char *mime)
{
    static const char *const map[][2] = {
        {"image/jpeg", "jpg"}, {"image/png", "png"}, {"image/webp", "webp"}, {"image/gif", "gif"},
        {"audio/ogg", "ogg"},  {"audio/mpeg", "mp3"}, {"audio/mp4", "m4a"}, {"audio/aac", "aac"},
        {"audio/amr", "amr"},  {"audio/wav", "wav"},  {"audio/webm", "webm"}, {"audio/opus", "opus"},
    };
    for (size_t i = 0; mime && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(mime, map[i][0]) == 0) return map[i][1];
    return "bin";
}

// A key from the env var named by env_name, else the direct setting.
static const char *s_key(const char *env_name, const char *direct)
{
    const char *v = *env_name ? getenv(env_name) : NULL;
    return v && *v ? v : direct;
}

worker_s3_t *worker_s3_new(const worker_cfg_t *cfg, lull_http_t *http, lull_db_t *db)
{
    if (!*cfg->s3_endpoint) return NULL;
    const char *access = s_key(cfg->s3_access_env, cfg->s3_access), *secret = s_key(cfg->s3_secret_env, cfg->s3_secret);
    if (!*cfg->s3_bucket || !*access || !*secret || !*cfg->s3_region || strchr(access, ':')) {
        LOG_WARN("media.archive_off", "LULL_MEDIA_S3_ENDPOINT is set but the bucket, the region or a key is missing (or "
                 "the access key holds ':'); media are not archived", NULL);
        return NULL;
    }
    worker_s3_t *self = calloc(1, sizeof *self);
    size_t n = strlen(access) + strlen(secret) + 2;
    if (!self || !(self->userpwd = malloc(n))) {
        free(self);
        return NULL;
    }
    snprintf(self->userpwd, n, "%s:%s", access, secret);
    snprintf(self->sigv4, sizeof self->sigv4, "aws:amz:%s:s3", cfg->s3_region);
    self->cfg = cfg;
    self->http = http;
    self->db = db;
    LOG_INFO("media.archive_on", "fetched media are archived to S3-compatible storage", "bucket", LS(cfg->s3_bucket),
             "region", LS(cfg->s3_region));
    return self;
}

void worker_s3_destroy(worker_s3_t **self_p)
{
    if (!self_p || !*self_p) return;
    worker_s3_t *self = *self_p;
    if (self->userpwd) memset(self->userpwd, 0, strlen(self->userpwd));
    free(self->userpwd);
    free(self);
    *self_p = NULL;
}

static void s_on_put(const lull_http_resp_t *resp, void *arg)
{
    s_put_t *p = arg;
    if (resp->curl_code == CURLE_ABORTED_BY_CALLBACK) goto cleanup;  // the worker is stopping
    if (resp->curl_code != 0 || resp->status < 200 || resp->status >= 300) {
        LOG_WARN("media.archive_failed", "a media file could not be archived", "conv", LI(p->conv_id), "message",
                 LI(p->msg_id), "status", LI(resp->status), "error", LS(resp->curl_code ? resp->error : ""));
        goto cleanup;
    }
    char id[24], entry[16];
    snprintf(id, sizeof id, "%lld", (long long)p->msg_id);
    snprintf(entry, sizeof entry, "%d", p->entry);
    const char *params[] = {id, entry, p->key};
    PGresult *r = lull_db_exec(p->s3->db,
                               "UPDATE messages SET media = jsonb_set(media, ARRAY[$2::text, 's3_key'], to_jsonb($3::text))"
                               " WHERE id = $1 AND jsonb_typeof(media -> $2::int) = 'object'",
                               3, params);
    if (r) LOG_INFO("media.archived", "media file archived", "conv", LI(p->conv_id), "message", LI(p->msg_id), "key", LS(p->key));
    else
        LOG_WARN("media.archive_failed", "archived, but the key could not be stored on the message", "conv",
                 LI(p->conv_id), "message", LI(p->msg_id), "error", LS(lull_db_error(p->s3->db)));
    PQclear(r);
cleanup:
    free(p);
}

void worker_s3_put(worker_s3_t *self, int64_t tenant_id, int64_t conv_id, int64_t msg_id, int entry, const char *mime,
                   const char *data, size_t len)
{
    if (!self) return;
    s_put_t *p = calloc(1, sizeof *p);
    if (!p) return;
    *p = (s_put_t){.s3 = self, .conv_id = conv_id, .msg_id = msg_id, .entry = entry};
    snprintf(p->key, sizeof p->key, "media/t%lld/c%lld/m%lld-%d.%s", (long long)tenant_id, (long long)conv_id,
             (long long)msg_id, entry, worker_s3_ext(mime));
    char url[2048], ct[96], sha_hdr[100], hex[65];
    uint8_t sum[32];
    int w = snprintf(url, sizeof url, "%s/%s/%s", self->cfg->s3_endpoint, self->cfg->s3_bucket, p->key);
    if (w < 0 || (size_t)w >= sizeof url || lull_sha256(data, len, sum) != 0) {
        LOG_WARN("media.archive_failed", "archive URL too long", "conv", LI(conv_id), "message", LI(msg_id));
        free(p);
        return;
    }
    snprintf(ct, sizeof ct, "Content-Type: %s", mime);
    snprintf(sha_hdr, sizeof sha_hdr, "x-amz-content-sha256: %s", lull_hex(sum, sizeof sum, hex));
    lull_http_req_t req = {.method = "PUT", .url = url, .body = data, .body_len = len, .userpwd = self->userpwd,
                           .aws_sigv4 = self->sigv4, .timeout_ms = self->cfg->media_timeout_ms};
    req.headers[0] = ct;
    req.headers[1] = sha_hdr;
    if (lull_http_start(self->http, &req, s_on_put, p) != 0) {
        LOG_WARN("media.archive_failed", "cannot start the archive request", "conv", LI(conv_id), "message", LI(msg_id));
        free(p);
    }
}
