// Rate limits and Origin checks of the public routes (see ingress_guard.h).
#include "ingress_guard.h"
#include "lull_clock.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ingress_guard {
    lull_ratelimit_t *rl[INGRESS_LIMIT_COUNT];
    lull_metrics_t *metrics;
    _Atomic int64_t log_second;  // the wall second of the last rate_limited line
    _Atomic int64_t unlogged;    // refusals not logged since
};

static const char *const s_names[INGRESS_LIMIT_COUNT] = {
    [INGRESS_LIMIT_SESSION] = "chat_session_addr", [INGRESS_LIMIT_MESSAGE] = "chat_message_session",
    [INGRESS_LIMIT_MESSAGE_ADDR] = "chat_message_addr", [INGRESS_LIMIT_READ] = "chat_read_addr",
    [INGRESS_LIMIT_UNSIGNED] = "webhook_unsigned_addr",
};

const char *ingress_guard_limit_name(ingress_limit_t limit)
{
    return limit < INGRESS_LIMIT_COUNT ? s_names[limit] : "unknown";
}

ingress_guard_t *ingress_guard_new(const ingress_cfg_t *cfg, lull_metrics_t *metrics)
{
    ingress_guard_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->metrics = metrics;
    const int64_t rate[INGRESS_LIMIT_COUNT][2] = {
        [INGRESS_LIMIT_SESSION] = {cfg->chat_session_rate, cfg->chat_session_burst},
        [INGRESS_LIMIT_MESSAGE] = {cfg->chat_message_rate, cfg->chat_message_burst},
        [INGRESS_LIMIT_MESSAGE_ADDR] = {cfg->chat_message_addr_rate, cfg->chat_message_addr_burst},
        [INGRESS_LIMIT_READ] = {cfg->chat_read_rate, cfg->chat_read_burst},
        [INGRESS_LIMIT_UNSIGNED] = {cfg->webhook_unsigned_rate, cfg->webhook_unsigned_burst},
    };
    for (int i = 0; i < INGRESS_LIMIT_COUNT; i++) {
        self->rl[i] = lull_ratelimit_new((double)rate[i][0], (double)rate[i][1], (size_t)cfg->ratelimit_keys);
        if (!self->rl[i]) {
            ingress_guard_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void ingress_guard_destroy(ingress_guard_t **self_p)
{
    if (!self_p || !*self_p) return;
    ingress_guard_t *self = *self_p;
    for (int i = 0; i < INGRESS_LIMIT_COUNT; i++) lull_ratelimit_destroy(&self->rl[i]);
    free(self);
    *self_p = NULL;
}

size_t ingress_guard_addr(struct MHD_Connection *conn, uint8_t key[LULL_RATELIMIT_ADDR_KEY])
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci ? lull_ratelimit_addr_key(ci->client_addr, key) : 0;
}

int64_t ingress_guard_take(ingress_guard_t *self, ingress_limit_t limit, const void *key, size_t keylen)
{
    if (!self || !keylen) return 0;
    return lull_ratelimit_take(self->rl[limit], key, keylen, lull_clock_mono_ms());
}

int64_t ingress_guard_owed(ingress_guard_t *self, ingress_limit_t limit, const void *key, size_t keylen)
{
    if (!self || !keylen) return 0;
    return lull_ratelimit_owed_ms(self->rl[limit], key, keylen, lull_clock_mono_ms());
}

void ingress_guard_charge(ingress_guard_t *self, ingress_limit_t limit, const void *key, size_t keylen)
{
    if (self && keylen) lull_ratelimit_charge(self->rl[limit], key, keylen, lull_clock_mono_ms());
}

enum MHD_Result ingress_guard_refuse(ingress_guard_t *self, struct MHD_Connection *conn, ingress_limit_t limit,
                                     const char *route, int64_t retry_ms)
{
    int64_t secs = (retry_ms + 999) / 1000;
    if (secs < 1) secs = 1;
    if (self->metrics) {
        char labels[128];
        snprintf(labels, sizeof labels, "route=\"%s\",limit=\"%s\"", route, s_names[limit]);
        lull_counter_add(lull_metrics_counter(self->metrics, "lull_ingress_rate_limited_total", labels,
                                              "requests refused with 429 by a rate limit, by route and limit"),
                         1);
    }
    // one line a second at most: a flood of refusals must not flood the log
    int64_t now_s = lull_clock_wall_ms() / 1000, last = atomic_load(&self->log_second);
    if (now_s != last && atomic_compare_exchange_strong(&self->log_second, &last, now_s)) {
        int64_t skipped = atomic_exchange(&self->unlogged, 0);
        LOG_INFO("http.rate_limited", "request refused by a rate limit", "route", LS(route), "limit",
                 LS(s_names[limit]), "retry_after_s", LI(secs), "unlogged", LI(skipped));
    } else {
        atomic_fetch_add(&self->unlogged, 1);
    }
    char *body = lull_json_error_body("rate_limited", "too many requests from this client; retry after Retry-After seconds");
    if (!body) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    char ra[24];
    snprintf(ra, sizeof ra, "%lld", (long long)secs);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Retry-After", ra);
    enum MHD_Result ret = MHD_queue_response(conn, 429, r);
    MHD_destroy_response(r);
    return ret;
}

// True when origin (scheme://host[:port]) names host (a Host header value) with http or https.
static bool s_origin_is_host(const char *origin, const char *host)
{
    const char *rest = NULL;
    if (strncasecmp(origin, "http://", 7) == 0) rest = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0) rest = origin + 8;
    return rest && host && *host && strcasecmp(rest, host) == 0;
}

ingress_origin_t ingress_guard_origin(struct MHD_Connection *conn, const char *public_url)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (!origin) return INGRESS_ORIGIN_NONE;
    if (public_url && *public_url && strcasecmp(origin, public_url) == 0) return INGRESS_ORIGIN_SAME;
    if (s_origin_is_host(origin, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host"))) return INGRESS_ORIGIN_SAME;
    return INGRESS_ORIGIN_FOREIGN;
}
