// Admin health and configuration: the health targets fetched in parallel with libcurl multi on the admin thread
// (lull_http needs a lull_loop, whose signal fd belongs to the main loop), and the configuration document.
#include "admin_health.h"
#include "lull_json.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_TARGETS 16

typedef struct {
    char name[64];
    char url[512];
    CURL *h;
    long status;
    char body[512];
    size_t len;
} s_target_t;

static size_t s_health_write(char *p, size_t sz, size_t n, void *arg)
{
    s_target_t *t = arg;
    size_t want = sz * n, room = sizeof t->body - 1 - t->len;
    size_t take = want < room ? want : room;
    memcpy(t->body + t->len, p, take);
    t->len += take;
    t->body[t->len] = '\0';
    return want;
}

void admin_health_check(admin_ctx_t *ctx, admin_req_t *req)
{
    s_target_t t[S_MAX_TARGETS];
    int nt = 0;
    const lull_cfg_list_t *targets = ctx->health_targets;
    for (size_t i = 0; targets && i < targets->n && nt < S_MAX_TARGETS; i++) {
        const char *p = targets->items[i], *eq = strchr(p, '=');
        size_t len = strlen(p);
        if (eq && eq > p && (size_t)(eq - p) < sizeof t[nt].name && len - (size_t)(eq - p) - 1 < sizeof t[nt].url) {
            memset(&t[nt], 0, sizeof t[nt]);
            snprintf(t[nt].name, sizeof t[nt].name, "%.*s", (int)(eq - p), p);
            snprintf(t[nt].url, sizeof t[nt].url, "%s", eq + 1);
            nt++;
        }
    }
    CURLM *m = curl_multi_init();
    for (int i = 0; m && i < nt; i++) {
        t[i].h = curl_easy_init();
        if (!t[i].h) continue;
        curl_easy_setopt(t[i].h, CURLOPT_URL, t[i].url);
        curl_easy_setopt(t[i].h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(t[i].h, CURLOPT_TIMEOUT_MS, (long)ctx->health_timeout_ms);
        curl_easy_setopt(t[i].h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t[i].h, CURLOPT_WRITEFUNCTION, s_health_write);
        curl_easy_setopt(t[i].h, CURLOPT_WRITEDATA, &t[i]);
        curl_easy_setopt(t[i].h, CURLOPT_PRIVATE, &t[i]);
        curl_multi_add_handle(m, t[i].h);
    }
    int running = 1;
    while (m && running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) break;
        if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *tiers = cJSON_AddObjectToObject(root, "tiers");
    cJSON *me = cJSON_AddObjectToObject(tiers, "admin");
    cJSON_AddStringToObject(me, "status", "ok");
    bool all_ok = true;
    for (int i = 0; i < nt; i++) {
        if (t[i].h) curl_easy_getinfo(t[i].h, CURLINFO_RESPONSE_CODE, &t[i].status);
        bool ok = t[i].status >= 200 && t[i].status < 300;
        all_ok = all_ok && ok;
        cJSON *o = cJSON_AddObjectToObject(tiers, t[i].name);
        cJSON_AddStringToObject(o, "status", ok ? "ok" : "down");
        cJSON_AddNumberToObject(o, "http_status", (double)t[i].status);
        char err[64];
        cJSON *b = t[i].len ? lull_json_parse(t[i].body, t[i].len, 8, err, sizeof err) : NULL;
        if (b) cJSON_AddItemToObject(o, "detail", b);
        if (m && t[i].h) curl_multi_remove_handle(m, t[i].h);
        if (t[i].h) curl_easy_cleanup(t[i].h);
    }
    if (m) curl_multi_cleanup(m);
    cJSON_AddStringToObject(root, "status", all_ok ? "ok" : "degraded");
    admin_util_answer(req, all_ok ? 200 : 503, lull_json_print(root));
    cJSON_Delete(root);
}

void admin_health_config(admin_ctx_t *ctx, admin_req_t *req)
{
    admin_util_answer(req, 200, strdup(ctx->config_json ? ctx->config_json : "{}"));
}
