// libFuzzer target for the ingress parsers and verifiers: arbitrary webhook bodies and headers must never crash
// the form parser, the channel parsers or the signature checks.
#include "../../ingress/ingress_parse.h"
#include "../../ingress/ingress_sig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    ingress_err_t err;
    ingress_row_t row;
    ingress_form_t form;
    if (ingress_form_parse(body, size, &form, &err) == 0) {
        if (ingress_parse_twilio(&form, &row, &err) == 0) ingress_row_free(&row);
        (void)ingress_sig_twilio("token", "https://a.example:8443/webhook/twilio?x=1&bodySHA256=ab", form.p, form.n,
                                 body, size, "abc=");
        ingress_form_free(&form);
    }
    if (ingress_parse_generic(body, size, &row, &err) == 0) ingress_row_free(&row);
    if (ingress_parse_tiktok(body, size, &row, &err) == 0) ingress_row_free(&row);
    if (ingress_parse_chat_message(body, size, &row, &err) == 0) ingress_row_free(&row);
    char *meta = NULL, *tenant = NULL;
    if (ingress_parse_chat_session(body, size, &meta, &tenant, &err) == 0) {
        free(meta);
        free(tenant);
    }
    // the body as a header value (NUL-terminated copy)
    char *hdr = malloc(size + 1);
    if (!hdr) return 0;
    memcpy(hdr, data, size);
    hdr[size] = '\0';
    (void)ingress_sig_tiktok("secret", hdr, body, size, 1700000000, 300);
    (void)ingress_sig_meta("secret", hdr, body, size);
    (void)ingress_sig_twilio("token", hdr, NULL, 0, body, size, hdr);
    free(hdr);
    return 0;
}
