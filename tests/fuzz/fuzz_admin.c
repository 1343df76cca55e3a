// libFuzzer target for lull-admin's request readers: the route table and path ids, the query strings
// (limit, after, since, filters, upsert…) and the JSON bodies of the CRUD, reply, handback, replay and dry-run
// routes. The input is "METHOD URI\n" then the body. It is dispatched as admin_http.c does (route, path id),
// then the route's handler runs on an admin context whose database is unreachable (a refused statement is
// answered 503) and whose one scheduler shard has no peer (a control call fails at once): everything a
// handler reads from the request is read before either. Every answer must be a status and a JSON body, with
// {"error":…} when it is an error.
#include "../../admin/admin_health.h"
#include "../../admin/admin_routes.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static admin_ctx_t s_ctx;

static void s_init(void)
{
    lull_log_set_level((lull_log_level_t)(LULL_LOG_ERROR + 1));  // the handlers' refusals, not the fuzzer's output
    s_ctx.db = lull_db_new("host=/nonexistent/lull-fuzz port=1 connect_timeout=1");
    lull_db_set_backoff(s_ctx.db, 3600 * 1000, 3600 * 1000);
    s_ctx.ctl[0] = zsock_new(ZMQ_DEALER);
    zsock_set_linger(s_ctx.ctl[0], 0);
    zsock_set_immediate(s_ctx.ctl[0], 1);  // no peer: a send fails at once
    zsock_connect(s_ctx.ctl[0], "inproc://lull-fuzz-admin-nobody");
    s_ctx.nctl = 1;
    s_ctx.ctl_timeout_ms = 1;
    s_ctx.try_timeout_ms = 1;
    s_ctx.config_json = "{}";
}

// An error answer is {"error":{"code":…,"message":…}}; any answer is JSON.
static void s_check_answer(const admin_req_t *req)
{
    if (req->status < 200 || req->status > 599 || !req->answer) abort();
    char err[128];
    cJSON *o = lull_json_parse(req->answer, strlen(req->answer), LULL_JSON_MAX_DEPTH, err, sizeof err);
    if (!o) abort();
    if (req->status >= 400) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")))
            abort();
    }
    cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_ctx.db) s_init();
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl || nl - data > 2048) return 0;
    size_t head_len = (size_t)(nl - data);
    char head[2049];
    memcpy(head, data, head_len);
    head[head_len] = '\0';
    if (strlen(head) != head_len) return 0;  // a NUL in the head: libmicrohttpd never passes one
    char *sp = strchr(head, ' ');
    if (!sp) return 0;
    *sp = '\0';
    const char *method = head, *uri = sp + 1;
    size_t len = size - head_len - 1;
    char *body = malloc(len + 1);  // NUL-terminated, as admin_http.c's body buffer
    if (!body) return 0;
    memcpy(body, nl + 1, len);
    body[len] = '\0';

    char path[1024];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(uri, "?#"), uri);
    char allow[LULL_ROUTE_ALLOW_MAX];
    lull_route_args_t args;
    int r = lull_route_find(admin_routes, ADMIN_R_COUNT, method, path, &args, allow, sizeof allow);
    // GET /api/v1/health reads nothing of the request and calls the configured tiers: not fuzzed
    if (r < 0 || !admin_route_handlers[r] || admin_route_handlers[r] == admin_health_check) goto done;
    admin_req_t req;
    memset(&req, 0, sizeof req);
    if (args.nargs > 0) {  // admin_http.c's s_path_id
        size_t n = args.len[0];
        const char *rest = NULL;
        if (n >= sizeof req.id_s || !admin_util_path_id(args.arg[0], &req.id, &rest) || rest != args.arg[0] + n)
            goto done;
        memcpy(req.id_s, args.arg[0], n);
        req.id_s[n] = '\0';
    }
    req.method = method;
    req.uri = uri;
    req.body = body;
    req.len = len;
    req.route = r;
    req.arg = admin_route_args[r];
    admin_route_handlers[r](&s_ctx, &req);
    s_check_answer(&req);
    free(req.answer);
done:
    free(body);
    return 0;
}
