// libFuzzer target for the WhatsApp Cloud API (Meta) webhook: arbitrary bodies through the envelope parser (and
// the writer items built from it) and arbitrary query strings through the verification handshake must never
// crash, leak or read out of bounds.
#include "../../ingress/ingress_meta.h"
#include "lull_log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet++) lull_log_set_level(LULL_LOG_ERROR);  // skipped items log a warning each
    ingress_meta_t m;
    ingress_err_t err;
    if (ingress_meta_parse((const char *)data, size, 50, &m, &err) == 0) {
        if (ingress_meta_items(&m, 1) == 0)
            for (size_t i = 0; i < m.nrows; i++)
                if (!ingress_meta_wamid(m.items[i].provider_id)) abort();  // a stored row always has a valid wamid
    }
    ingress_meta_free(&m);
    char *uri = malloc(size + 3);
    if (!uri) return 0;
    memcpy(uri, "/?", 2);
    memcpy(uri + 2, data, size);
    uri[size + 2] = '\0';
    char ch[INGRESS_META_CHALLENGE_MAX + 1];
    if (ingress_meta_verify(uri, "tok", ch, sizeof ch) && strlen(ch) > INGRESS_META_CHALLENGE_MAX) abort();
    free(uri);
    return 0;
}
