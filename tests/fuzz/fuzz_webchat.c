// libFuzzer target for what the web chat reads from a stranger before any database work: a stream request's
// session id (the path), its Last-Event-ID header and ?after= (ingress_stream_parse), and the page's
// If-None-Match. Input: path \n Last-Event-ID \n after; a missing part is an absent header or parameter.
// Properties: an accepted session id is 1..128 characters of [A-Za-z0-9_-], an accepted message id is the
// decimal the request gave, and every refusal is 400 or 404 with a code and a message.
#include "../../ingress/ingress_page.h"
#include "../../ingress/ingress_stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *part[3] = {text, NULL, NULL};
    for (int i = 1; i < 3; i++) {
        char *nl = part[i - 1] ? strchr(part[i - 1], '\n') : NULL;
        if (nl) {
            *nl = '\0';
            part[i] = nl + 1;
        }
    }
    ingress_stream_want_t w;
    const char *code = NULL, *why = NULL;
    int st = ingress_stream_parse(part[0], part[1], part[2], &w, &code, &why);
    if (st == 0) {
        size_t n = strlen(w.session);
        if (n == 0 || n > INGRESS_STREAM_SESSION_MAX || strspn(w.session, "abcdefghijklmnopqrstuvwxyz"
                                                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n ||
            strncmp(w.session, part[0], n) != 0)
            abort();
        const char *id = part[1] && *part[1] ? part[1] : part[2];
        if (id ? w.after < 0 || strtoll(id, NULL, 10) != w.after : w.after != -1) abort();
    } else if ((st != 400 && st != 404) || !code || !why || !*code || !*why) {
        abort();
    }
    (void)ingress_page_etag_matches(part[0]);
    free(text);
    return 0;
}
