// libFuzzer target for lull_json_parse and the typed accessors: arbitrary bytes must never crash them.
#include "lull_json.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[128];
    cJSON *root = lull_json_parse((const char *)data, size, LULL_JSON_MAX_DEPTH, err, sizeof err);
    if (!root) return 0;
    const char *s = NULL;
    int64_t i = 0;
    double d = 0;
    bool b = false;
    bool present = false;
    (void)lull_json_str(root, "body", true, 4096, &s, err, sizeof err);
    (void)lull_json_int(root, "id", false, true, 0, INT64_MAX / 2, &i, err, sizeof err);
    (void)lull_json_num(root, "x", false, -1e9, 1e9, &d, err, sizeof err);
    (void)lull_json_bool(root, "ok", false, &b, err, sizeof err);
    const cJSON *msg = lull_json_child(root, "message", false, false, &present, err, sizeof err);
    if (msg) (void)lull_json_str(msg, "body", true, 4096, &s, err, sizeof err);
    char *text = lull_json_print(root);
    cJSON_free(text);
    cJSON_Delete(root);
    return 0;
}
