// Unit tests of ingress_sig: every case of ../shared/vectors/signatures.json (Twilio, Twilio negative, TikTok,
// Meta) passes, and one-byte mutations of the signature, the token, the URL and a parameter fail.
#include "../../ingress/ingress_sig.h"
#include "lull_test.h"

#include <cJSON.h>
#include <stdlib.h>

static cJSON *s_vectors;

static cJSON *s_load(void)
{
    const char *root = getenv("LULL_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/../shared/vectors/signatures.json", root ? root : ".");
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return cJSON_Parse(buf);
}

// Params of a vector as a flat array (repeated values of one name become repeated pairs). Returns the count.
static size_t s_params(const cJSON *obj, ingress_param_t *out, size_t cap)
{
    size_t n = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, obj)
    {
        if (cJSON_IsArray(p)) {
            const cJSON *v;
            cJSON_ArrayForEach(v, p) if (n < cap) out[n++] = (ingress_param_t){p->string, v->valuestring};
        } else if (n < cap) {
            out[n++] = (ingress_param_t){p->string, p->valuestring};
        }
    }
    return n;
}

static const char *s_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static ingress_sig_result_t s_twilio(const char *token, const char *url, const ingress_param_t *p, size_t n,
                                     const char *body, const char *sig)
{
    return ingress_sig_twilio(token, url, p, n, body, body ? strlen(body) : 0, sig);
}

LULL_TEST(vectors_present)
{
    LULL_CHECK(s_vectors != NULL);
    LULL_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(s_vectors, "twilio")) >= 10);
}

LULL_TEST(twilio_vectors_pass)
{
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(s_vectors, "twilio"))
    {
        ingress_param_t p[32];
        size_t n = s_params(cJSON_GetObjectItem(c, "params"), p, 32);
        const char *token = s_str(c, "auth_token"), *url = s_str(c, "request_url"), *sig = s_str(c, "expected_signature");
        ingress_sig_result_t r = s_twilio(token, url, p, n, s_str(c, "raw_body"), sig);
        if (r != INGRESS_SIG_OK) LULL_FAIL_AT_("vector %s: %s", s_str(c, "name"), ingress_sig_result_name(r));
        count++;
    }
    LULL_CHECK_EQ_INT(count, 11);
}

LULL_TEST(twilio_string_to_sign_matches)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(s_vectors, "twilio"))
    {
        ingress_param_t p[32];
        size_t n = s_params(cJSON_GetObjectItem(c, "params"), p, 32);
        char sig[64];
        LULL_CHECK(ingress_sig_twilio_compute(s_str(c, "auth_token"), s_str(c, "url_signed"), p, n, sig, sizeof sig) == 0);
        if (strcmp(sig, s_str(c, "expected_signature")) != 0) LULL_FAIL_AT_("vector %s: computed %s", s_str(c, "name"), sig);
    }
}

LULL_TEST(twilio_negative_vectors_fail)
{
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(s_vectors, "twilio_negative"))
    {
        ingress_param_t p[32];
        size_t n = s_params(cJSON_GetObjectItem(c, "params"), p, 32);
        ingress_sig_result_t r = s_twilio(s_str(c, "auth_token"), s_str(c, "request_url"), p, n, s_str(c, "raw_body"),
                                          s_str(c, "header"));
        if (r == INGRESS_SIG_OK) LULL_FAIL_AT_("negative vector %s passed", s_str(c, "name"));
        if (!s_str(c, "header") && r != INGRESS_SIG_MISSING) LULL_FAIL_AT_("%s: want missing", s_str(c, "name"));
        count++;
    }
    LULL_CHECK_EQ_INT(count, 5);
}

// Every one-byte change of s (each position, +1) makes check() fail.
static void s_mutate_each(char *s, bool (*check)(void *), void *arg, const char *what, const char *name)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        char orig = s[i];
        s[i] = (char)(orig == '~' ? '!' : orig + 1);
        if (check(arg)) LULL_FAIL_AT_("%s %s: mutation at byte %zu still verifies", name, what, i);
        s[i] = orig;
    }
}

typedef struct {
    char token[64], url[512], sig[64], body[512];
    bool has_body;
    ingress_param_t p[32];
    char pv[32][128], pn[32][64];
    size_t n;
} s_case_t;

static bool s_case_ok(void *arg)
{
    s_case_t *k = arg;
    return s_twilio(k->token, k->url, k->p, k->n, k->has_body ? k->body : NULL, k->sig) == INGRESS_SIG_OK;
}

LULL_TEST(twilio_mutations_fail)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(s_vectors, "twilio"))
    {
        s_case_t k;
        memset(&k, 0, sizeof k);
        const char *name = s_str(c, "name");
        snprintf(k.token, sizeof k.token, "%s", s_str(c, "auth_token"));
        snprintf(k.url, sizeof k.url, "%s", s_str(c, "request_url"));
        snprintf(k.sig, sizeof k.sig, "%s", s_str(c, "expected_signature"));
        if (s_str(c, "raw_body")) {
            k.has_body = true;
            snprintf(k.body, sizeof k.body, "%s", s_str(c, "raw_body"));
        }
        ingress_param_t p[32];
        k.n = s_params(cJSON_GetObjectItem(c, "params"), p, 32);
        for (size_t i = 0; i < k.n; i++) {
            snprintf(k.pn[i], sizeof k.pn[i], "%s", p[i].name);
            snprintf(k.pv[i], sizeof k.pv[i], "%s", p[i].value);
            k.p[i] = (ingress_param_t){k.pn[i], k.pv[i]};
        }
        LULL_CHECK(s_case_ok(&k));
        s_mutate_each(k.sig, s_case_ok, &k, "signature", name);
        s_mutate_each(k.token, s_case_ok, &k, "token", name);
        // The URL from its path on (the authority's port is deliberately tolerated, see the port variants).
        char *path = strchr(strstr(k.url, "://") + 3, '/');
        s_mutate_each(path, s_case_ok, &k, "url", name);
        char *host = strstr(k.url, "://") + 3;
        host[0] = (char)(host[0] + 1);
        if (s_case_ok(&k)) LULL_FAIL_AT_("%s: host mutation verifies", name);
        host[0] = (char)(host[0] - 1);
        if (k.n) {  // the last parameter's value and the first one's name
            s_mutate_each(k.pv[k.n - 1], s_case_ok, &k, "param value", name);
            s_mutate_each(k.pn[0], s_case_ok, &k, "param name", name);
        }
        if (k.has_body) s_mutate_each(k.body, s_case_ok, &k, "body", name);
        LULL_CHECK(s_case_ok(&k));
    }
}

LULL_TEST(twilio_extra_param_fails)
{
    ingress_param_t p[2] = {{"To", "+1"}, {"From", "+2"}};
    char sig[64];
    LULL_CHECK(ingress_sig_twilio_compute("tok", "https://a.b/x", p, 1, sig, sizeof sig) == 0);
    LULL_CHECK(s_twilio("tok", "https://a.b/x", p, 1, NULL, sig) == INGRESS_SIG_OK);
    LULL_CHECK(s_twilio("tok", "https://a.b/x", p, 2, NULL, sig) == INGRESS_SIG_MISMATCH);
    LULL_CHECK(s_twilio("tok", "https://a.b/x", p, 0, NULL, sig) == INGRESS_SIG_MISMATCH);
    LULL_CHECK(s_twilio("tok", "https://a.b/x", p, 1, NULL, "") == INGRESS_SIG_MALFORMED);
}

// Signatures made by the official twilio npm library (5.13: getExpectedTwilioSignature, token "12345", params
// To=+1) over a rewritten URL, and whether its validateRequest accepts them for the URL received
// https://a.example:8443/h + query: lull must give the same verdict (its legacy-querystring variants).
LULL_TEST(twilio_library_query_rewrites)
{
    static const struct {
        const char *query, *sig;
        bool valid;
    } cases[] = {
        {"?n=o%27brien", "XB8VE5yDvvOYq/TbxxGaTuJ0mHM=", true},   // signed ?n=o'brien with the port
        {"?n=o%27brien", "FQb17Gp1sORFgGyb1Q7ZOxsxB8U=", true},   // … without it
        {"?n=o%27brien", "xagcL2pfFP7VEOA/XoH5wsH6N9g=", false},  // … with :443 (the library never tries it)
        {"?a=1&b=2&a=3&&", "Jc2UrexCuP6g8gTSZFY1ttH2LWU=", true},  // ?a=1&a=3&b=2
        {"?z=1&4294967295=a&4294967294=b&01=c&0=d", "1fXc166syBzE1gK8BNgFV+6npH8=", true},  // array indexes first
        {"?q=a+b&r=%2B", "T8UGQ9Ncicd6ltJ9GQTzvZqpMfc=", true},           // ?q=a%20b&r=%2B
        {"?k=:/@&=x&flag", "D/UgESE8fLTvGRTG3Czws6QNOuQ=", true},         // ?k=%3A%2F%40&=x&flag=
        {"?p=100%&s=%zz", "c6W+zfjtn3xluToqROe60HKZMjk=", true},          // ?p=100%25&s=%25zz
        {"?e=%C3%A9", "aJz5tGSHJsiPFK3szM8hrzQRXW4=", true},
        {"?a==b", "uOijaYmwQbCaWs9FaB10zOLunOU=", true},                  // ?a=%3Db
        {"?a=1&b=2", "kc9VKnPRNJYfnqlde6w2Bbf3EHs=", false},              // signed reordered
        {"?x=%3A", "izXnvHDZVgG16prt3e4nmgW7i8Q=", false},                // signed ?x=:
    };
    ingress_param_t p[1] = {{"To", "+1"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char url[256];
        snprintf(url, sizeof url, "https://a.example:8443/h%s", cases[i].query);
        ingress_sig_result_t r = s_twilio("12345", url, p, 1, NULL, cases[i].sig);
        if ((r == INGRESS_SIG_OK) != cases[i].valid)
            LULL_FAIL_AT_("case %zu (%s): lull says %s, the library %s", i, cases[i].query, ingress_sig_result_name(r),
                          cases[i].valid ? "accepts" : "refuses");
    }
}

static const char *s_tt_secret, *s_tt_body;
static char s_tt_header[256];
static int64_t s_tt_now;
static bool s_tiktok_ok(void *arg)
{
    (void)arg;
    return ingress_sig_tiktok(s_tt_secret, s_tt_header, s_tt_body, strlen(s_tt_body), s_tt_now, 300) == INGRESS_SIG_OK;
}

LULL_TEST(tiktok_vectors)
{
    const cJSON *tt = cJSON_GetObjectItem(s_vectors, "tiktok");
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(tt, "vectors"))
    {
        const char *secret = s_str(c, "client_secret"), *body = s_str(c, "raw_body"), *hdr = s_str(c, "expected_header");
        int64_t t = strtoll(s_str(c, "timestamp"), NULL, 10);
        LULL_CHECK(ingress_sig_tiktok(secret, hdr, body, strlen(body), t + 10, 300) == INGRESS_SIG_OK);
        char mine[128];
        LULL_CHECK(ingress_sig_tiktok_compute(secret, t, body, strlen(body), mine, sizeof mine) == 0);
        LULL_CHECK_EQ_STR(mine, hdr);
        // negative: stale, all-zero signature, missing, malformed
        LULL_CHECK(ingress_sig_tiktok(secret, hdr, body, strlen(body), t + 301, 300) == INGRESS_SIG_STALE);
        LULL_CHECK(ingress_sig_tiktok(secret, hdr, body, strlen(body), t - 301, 300) == INGRESS_SIG_STALE);
        char zero[128];
        snprintf(zero, sizeof zero, "t=%lld,s=%064d", (long long)t, 0);
        LULL_CHECK(ingress_sig_tiktok(secret, zero, body, strlen(body), t, 300) == INGRESS_SIG_MISMATCH);
        LULL_CHECK(ingress_sig_tiktok(secret, NULL, body, strlen(body), t, 300) == INGRESS_SIG_MISSING);
        LULL_CHECK(ingress_sig_tiktok(secret, "s=abc", body, strlen(body), t, 300) == INGRESS_SIG_MALFORMED);
        // one-byte mutations of the header, secret and body
        s_tt_secret = secret;
        s_tt_body = body;
        s_tt_now = t;
        snprintf(s_tt_header, sizeof s_tt_header, "%s", hdr);
        LULL_CHECK(s_tiktok_ok(NULL));
        s_mutate_each(s_tt_header, s_tiktok_ok, NULL, "header", "tiktok");
        char sec[64], b[1024];
        snprintf(sec, sizeof sec, "%s", secret);
        snprintf(b, sizeof b, "%s", body);
        s_tt_secret = sec;
        s_tt_body = b;
        s_mutate_each(sec, s_tiktok_ok, NULL, "secret", "tiktok");
        s_mutate_each(b, s_tiktok_ok, NULL, "body", "tiktok");
        count++;
    }
    LULL_CHECK(count >= 1);
}

LULL_TEST(meta_vectors)
{
    const cJSON *c;
    int count = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(s_vectors, "meta_whatsapp"), "vectors"))
    {
        const char *secret = s_str(c, "secret"), *body = s_str(c, "raw_body"), *hdr = s_str(c, "header");
        LULL_CHECK(ingress_sig_meta(secret, hdr, body, strlen(body)) == INGRESS_SIG_OK);
        char h[128];
        snprintf(h, sizeof h, "%s", hdr);
        for (size_t i = 7; h[i]; i++) {
            char o = h[i];
            h[i] = o == '0' ? '1' : '0';
            if (ingress_sig_meta(secret, h, body, strlen(body)) == INGRESS_SIG_OK) LULL_FAIL_AT_("meta mutation %zu", i);
            h[i] = o;
        }
        count++;
    }
    LULL_CHECK_EQ_INT(count, 2);
}

int main(void)
{
    s_vectors = s_load();
    LULL_RUN(vectors_present);
    LULL_RUN(twilio_vectors_pass);
    LULL_RUN(twilio_string_to_sign_matches);
    LULL_RUN(twilio_negative_vectors_fail);
    LULL_RUN(twilio_mutations_fail);
    LULL_RUN(twilio_extra_param_fails);
    LULL_RUN(twilio_library_query_rewrites);
    LULL_RUN(tiktok_vectors);
    LULL_RUN(meta_vectors);
    cJSON_Delete(s_vectors);
    return lull_test_summary();
}
