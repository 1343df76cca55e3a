// The tool table and its implementations: search_inventory over the tenant's available inventory.
#include "worker_tools.h"
#include "lull_json.h"
#include "lull_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVENTORY_ROWS "5"
#define MAX_QUERY 200

static char *s_error(const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "error", msg);
    char *out = lull_json_print(o);
    cJSON_Delete(o);
    return out;
}

// Full-text search on inventory.search, then a fallback ILIKE on name/sku; only 'available' rows.
static char *s_search_inventory(lull_db_t *db, int64_t tenant_id, const void *args_obj)
{
    const cJSON *args = args_obj;
    const char *query = NULL;
    char err[128];
    if (lull_json_str(args, "query", true, MAX_QUERY, &query, err, sizeof err) != 0 || !*query)
        return s_error("query must be a non-empty string of at most 200 bytes");
    char tenant[24];
    snprintf(tenant, sizeof tenant, "%lld", (long long)tenant_id);
    const char *params[] = {tenant, query};
    PGresult *res = lull_db_exec(
        db,
        "SELECT coalesce(json_agg(r), '[]'::json)::text FROM ("
        " SELECT name, sku, price, currency, size, measurements, description FROM ("
        "  (SELECT 1 AS k, id, name, sku, price, currency, size, measurements, description FROM inventory"
        "    WHERE tenant_id = $1 AND status = 'available' AND search @@ plainto_tsquery('simple', $2)"
        "    ORDER BY ts_rank(search, plainto_tsquery('simple', $2)) DESC, id LIMIT " INVENTORY_ROWS ")"
        "  UNION ALL"
        "  (SELECT 2, id, name, sku, price, currency, size, measurements, description FROM inventory"
        "    WHERE tenant_id = $1 AND status = 'available'"
        "      AND (name ILIKE '%' || $2 || '%' OR sku ILIKE '%' || $2 || '%')"
        "    ORDER BY id LIMIT " INVENTORY_ROWS ")"
        " ) u GROUP BY name, sku, price, currency, size, measurements, description"
        " ORDER BY min(k), min(id) LIMIT " INVENTORY_ROWS ") r",
        2, params);
    if (!res || PQntuples(res) != 1) {
        if (res) PQclear(res);
        return s_error("inventory search is unavailable right now");
    }
    const char *rows = lull_db_text(res, 0, 0);
    cJSON *o = cJSON_CreateObject();
    cJSON *items = rows ? cJSON_Parse(rows) : NULL;
    PQclear(res);
    if (!o || !items) {
        cJSON_Delete(o);
        cJSON_Delete(items);
        return s_error("inventory search failed");
    }
    cJSON_AddItemToObject(o, "items", items);
    if (cJSON_GetArraySize(items) == 0)
        cJSON_AddStringToObject(o, "note", "no available item matches; do not suggest items that are not listed");
    char *out = lull_json_print(o);
    cJSON_Delete(o);
    if (out && strlen(out) > WORKER_TOOL_MAX_RESULT) {
        free(out);
        return s_error("result too large");
    }
    return out;
}

static const worker_tool_t s_tools[] = {
    {"search_inventory",
     "Search the shop's available inventory by words (product name, SKU, category, size). Returns at most 5 "
     "items with name, sku, price, currency, size, measurements and description. Only these items exist.",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"description\":\"what the customer "
     "is looking for, e.g. 'leather jacket'\"}},\"required\":[\"query\"],\"additionalProperties\":false}",
     s_search_inventory},
};

size_t worker_tools_count(void)
{
    return sizeof s_tools / sizeof s_tools[0];
}

const worker_tool_t *worker_tool_at(size_t i)
{
    return i < worker_tools_count() ? &s_tools[i] : NULL;
}

char *worker_tools_run(lull_db_t *db, int64_t tenant_id, const char *name, const char *args)
{
    const worker_tool_t *tool = NULL;
    for (size_t i = 0; i < worker_tools_count(); i++)
        if (name && strcmp(s_tools[i].name, name) == 0) tool = &s_tools[i];
    if (!tool) return s_error("unknown tool");
    char err[96];
    cJSON *parsed = args ? lull_json_parse(args, strlen(args), 8, err, sizeof err) : NULL;
    if (!cJSON_IsObject(parsed)) {
        cJSON_Delete(parsed);
        return s_error("arguments must be a JSON object");
    }
    char *out = tool->run(db, tenant_id, parsed);
    cJSON_Delete(parsed);
    LOG_DEBUG("tool.run", NULL, "tool", LS(tool->name), "tenant", LI(tenant_id));
    return out;
}
