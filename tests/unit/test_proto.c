// Unit tests for proto/lull_proto: round trips, byte layout, every rejection path, names and send.
#include "lull_test.h"

#include "lull_proto.h"

#include <errno.h>
#include <stdlib.h>

#define T_MAX_FRAMES (LULL_PROTO_MAX_FRAMES + 4)

// A message as owned raw frames, so tests can corrupt any byte before decoding.
typedef struct {
    uint8_t *data[T_MAX_FRAMES];
    size_t len[T_MAX_FRAMES];
    size_t n;
} t_frames_t;

static void s_free_frames(t_frames_t *fr)
{
    for (size_t i = 0; i < fr->n; i++) free(fr->data[i]);
    memset(fr, 0, sizeof *fr);
}

// Replaces (or appends, when i == n) frame i with a copy of len bytes.
static void s_set_frame(t_frames_t *fr, size_t i, const void *data, size_t len)
{
    if (i >= T_MAX_FRAMES) abort();
    if (i < fr->n) free(fr->data[i]);
    else fr->n = i + 1;
    fr->data[i] = malloc(len ? len : 1);
    if (!fr->data[i]) abort();
    if (len) memcpy(fr->data[i], data, len);
    fr->len[i] = len;
}

// Encodes msg into fr (which must be empty); false if encode refused.
static bool s_encode_frames(t_frames_t *fr, const lull_msg_t *msg)
{
    memset(fr, 0, sizeof *fr);
    zmsg_t *z = lull_proto_encode(msg);
    if (!z) return false;
    size_t i = 0;
    for (zframe_t *f = zmsg_first(z); f; f = zmsg_next(z)) s_set_frame(fr, i++, zframe_data(f), zframe_size(f));
    zmsg_destroy(&z);
    return true;
}

static int s_decode_frames(const t_frames_t *fr, lull_msg_t *out, char *err, size_t errlen)
{
    return lull_proto_decode_frames((const uint8_t *const *)fr->data, fr->len, fr->n, out, err, errlen);
}

// Checks that fr is rejected, with a non-empty one-line reason, and leaves *out zeroed.
static bool s_check_rejected(const t_frames_t *fr)
{
    lull_msg_t out;
    char err[256] = "";
    static const lull_msg_t zero;
    int rc = s_decode_frames(fr, &out, err, sizeof err);
    if (rc == 0) lull_msg_clear(&out);
    bool ok = rc == -1 && err[0] != '\0' && !strchr(err, '\n') && memcmp(&out, &zero, sizeof out) == 0;
    if (!ok) printf("# expected rejection, got rc=%d err=\"%s\"\n", rc, err);
    return ok;
}

// Encodes msg, corrupts field frame `frame` (0 = header) with bytes, and checks the decoder rejects it.
static bool s_check_corrupted(const lull_msg_t *msg, size_t frame, const void *bytes, size_t len)
{
    t_frames_t fr;
    if (!s_encode_frames(&fr, msg)) return false;
    s_set_frame(&fr, frame, bytes, len);
    bool ok = s_check_rejected(&fr);
    s_free_frames(&fr);
    return ok;
}

// Encodes msg, decodes it through a zmsg, and checks re-encoding gives the same frames; *out must be cleared.
static bool s_check_round_trip(const lull_msg_t *msg, lull_msg_t *out)
{
    char err[256] = "";
    zmsg_t *z = lull_proto_encode(msg);
    if (!z) return false;
    size_t before = zmsg_size(z);
    int rc = lull_proto_decode(z, out, err, sizeof err);
    bool ok = rc == 0 && err[0] == '\0' && zmsg_size(z) == before;
    zmsg_t *again = ok ? lull_proto_encode(out) : NULL;
    ok = ok && again && zmsg_size(again) == before;
    for (zframe_t *a = zmsg_first(z), *b = again ? zmsg_first(again) : NULL; ok && a; a = zmsg_next(z), b = zmsg_next(again))
        ok = b && zframe_eq(a, b);
    if (!ok) printf("# round trip failed: rc=%d err=\"%s\"\n", rc, err);
    zmsg_destroy(&z);
    zmsg_destroy(&again);
    return ok;
}

static char *s_make_filled(size_t len, char c)
{
    char *s = malloc(len + 1);
    if (!s) abort();
    memset(s, c, len);
    s[len] = '\0';
    return s;
}

static const uint8_t s_be8_neg1[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void s_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}

// ---- round trips --------------------------------------------------------------------------------

LULL_TEST(round_trip_inbound)
{
    lull_msg_t m = { .type = LULL_MSG_INBOUND }, out;
    m.u.inbound.conversation_id = INT64_MAX;
    m.u.inbound.message_id = 0;
    m.u.inbound.tenant_id = 1;
    m.u.inbound.received_ms = INT64_MAX - 1;
    snprintf(m.u.inbound.channel, sizeof m.u.inbound.channel, "whatsapp");
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK_EQ_STR(out.u.inbound.channel, "whatsapp");
    LULL_CHECK_EQ_INT(out.type, LULL_MSG_INBOUND);
    LULL_CHECK(out.u.inbound.conversation_id == INT64_MAX);
    LULL_CHECK_EQ_INT(out.u.inbound.message_id, 0);
    LULL_CHECK_EQ_INT(out.u.inbound.tenant_id, 1);
    LULL_CHECK(out.u.inbound.received_ms == INT64_MAX - 1);
    lull_msg_clear(&out);
}

LULL_TEST(round_trip_ready)
{
    lull_msg_t m = { .type = LULL_MSG_READY }, out;
    m.u.ready.credit = INT32_MAX;
    memset(m.u.ready.name, 'w', LULL_PROTO_MAX_NAME);  // exactly at the limit, NUL from the initializer
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK_EQ_INT(out.u.ready.credit, INT32_MAX);
    LULL_CHECK_EQ_STR(out.u.ready.name, m.u.ready.name);
    LULL_CHECK_EQ_INT(strlen(out.u.ready.name), LULL_PROTO_MAX_NAME);
    lull_msg_clear(&out);

    m.u.ready.credit = 0;
    m.u.ready.name[0] = '\0';  // empty name is allowed
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK_EQ_INT(out.u.ready.credit, 0);
    LULL_CHECK_EQ_STR(out.u.ready.name, "");
    lull_msg_clear(&out);
}

LULL_TEST(round_trip_heartbeat)
{
    int32_t credits[] = { -1, 0, INT32_MAX };
    for (size_t i = 0; i < sizeof credits / sizeof credits[0]; i++) {
        lull_msg_t m = { .type = LULL_MSG_HEARTBEAT, .u.heartbeat.credit = credits[i] }, out;
        LULL_CHECK(s_check_round_trip(&m, &out));
        LULL_CHECK_EQ_INT(out.type, LULL_MSG_HEARTBEAT);
        LULL_CHECK_EQ_INT(out.u.heartbeat.credit, credits[i]);
        lull_msg_clear(&out);
    }
}

LULL_TEST(round_trip_job)
{
    lull_msg_t m = { .type = LULL_MSG_JOB }, out;
    m.u.job.job_id = UINT64_MAX;
    m.u.job.conversation_id = INT64_MAX;
    m.u.job.tenant_id = 0;
    m.u.job.expected_upto = 0;
    m.u.job.upto = INT64_MAX;
    m.u.job.attempt = INT32_MAX;
    m.u.job.flags = LULL_JOB_MAX_WAIT;
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK(out.u.job.job_id == UINT64_MAX);
    LULL_CHECK(out.u.job.conversation_id == INT64_MAX);
    LULL_CHECK_EQ_INT(out.u.job.tenant_id, 0);
    LULL_CHECK_EQ_INT(out.u.job.expected_upto, 0);
    LULL_CHECK(out.u.job.upto == INT64_MAX);
    LULL_CHECK_EQ_INT(out.u.job.attempt, INT32_MAX);
    LULL_CHECK_EQ_INT(out.u.job.flags, LULL_JOB_MAX_WAIT);
    lull_msg_clear(&out);

    m.u.job.job_id = 0;
    m.u.job.attempt = 0;
    m.u.job.flags = 0;
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK(out.u.job.job_id == 0);
    LULL_CHECK_EQ_INT(out.u.job.attempt, 0);
    LULL_CHECK_EQ_INT(out.u.job.flags, 0);
    lull_msg_clear(&out);
}

LULL_TEST(round_trip_done)
{
    for (int oc = 1; oc <= LULL_OUTCOME_MAX; oc++) {
        lull_msg_t m = { .type = LULL_MSG_DONE }, out;
        m.u.done.job_id = (uint64_t)1 << 63;
        m.u.done.conversation_id = INT64_MAX;
        m.u.done.outcome = (lull_outcome_t)oc;
        m.u.done.backoff_until_ms = INT64_MAX;
        m.u.done.retry_after_ms = 0;
        memset(m.u.done.detail, 'd', LULL_PROTO_MAX_DETAIL);
        LULL_CHECK(s_check_round_trip(&m, &out));
        LULL_CHECK(out.u.done.job_id == (uint64_t)1 << 63);
        LULL_CHECK(out.u.done.conversation_id == INT64_MAX);
        LULL_CHECK_EQ_INT(out.u.done.outcome, oc);
        LULL_CHECK(out.u.done.backoff_until_ms == INT64_MAX);
        LULL_CHECK_EQ_INT(out.u.done.retry_after_ms, 0);
        LULL_CHECK_EQ_STR(out.u.done.detail, m.u.done.detail);
        lull_msg_clear(&out);
    }
    lull_msg_t m = { .type = LULL_MSG_DONE, .u.done = { .outcome = LULL_OUTCOME_REPLIED, .retry_after_ms = INT64_MAX } }, out;
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK(out.u.done.retry_after_ms == INT64_MAX);
    LULL_CHECK_EQ_STR(out.u.done.detail, "");
    lull_msg_clear(&out);
}

LULL_TEST(round_trip_outbox)
{
    int64_t ids[] = { 0, 1, INT64_MAX };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        lull_msg_t m = { .type = LULL_MSG_OUTBOX, .u.outbox.outbox_id = ids[i] }, out;
        LULL_CHECK(s_check_round_trip(&m, &out));
        LULL_CHECK(out.u.outbox.outbox_id == ids[i]);
        lull_msg_clear(&out);
    }
}

LULL_TEST(round_trip_ctl_req)
{
    for (int op = 1; op <= LULL_CTL_OP_MAX; op++) {
        lull_msg_t m = { .type = LULL_MSG_CTL_REQ }, out;
        m.u.ctl_req.req_id = UINT64_MAX - (uint64_t)op;
        m.u.ctl_req.op = (lull_ctl_op_t)op;
        m.u.ctl_req.conversation_id = op == LULL_CTL_LIST ? 0 : INT64_MAX;
        m.u.ctl_req.limit = op == LULL_CTL_LIST ? INT32_MAX : 0;
        m.u.ctl_req.body = op == LULL_CTL_TRY ? (char *)"{\"tenant_id\":1,\"text\":\"hi\"}" : NULL;
        LULL_CHECK(s_check_round_trip(&m, &out));
        LULL_CHECK(out.u.ctl_req.req_id == UINT64_MAX - (uint64_t)op);
        LULL_CHECK_EQ_INT(out.u.ctl_req.op, op);
        LULL_CHECK(out.u.ctl_req.conversation_id == m.u.ctl_req.conversation_id);
        LULL_CHECK_EQ_INT(out.u.ctl_req.limit, m.u.ctl_req.limit);
        LULL_CHECK(m.u.ctl_req.body ? out.u.ctl_req.body && strcmp(out.u.ctl_req.body, m.u.ctl_req.body) == 0
                                    : out.u.ctl_req.body == NULL);
        lull_msg_clear(&out);
    }
}

LULL_TEST(round_trip_ctl_rep)
{
    char *big = s_make_filled(LULL_PROTO_MAX_BODY, 'j');
    lull_msg_t m = { .type = LULL_MSG_CTL_REP }, out;
    m.u.ctl_rep.req_id = UINT64_MAX;
    m.u.ctl_rep.status = 599;
    m.u.ctl_rep.body = big;
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK(out.u.ctl_rep.req_id == UINT64_MAX);
    LULL_CHECK_EQ_INT(out.u.ctl_rep.status, 599);
    LULL_CHECK(out.u.ctl_rep.body && out.u.ctl_rep.body != big);
    LULL_CHECK(out.u.ctl_rep.body && strcmp(out.u.ctl_rep.body, big) == 0);
    lull_msg_clear(&out);
    LULL_CHECK(out.u.ctl_rep.body == NULL);

    m.u.ctl_rep.status = 100;
    m.u.ctl_rep.body = NULL;  // no body: empty frame, decoded back to NULL
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK_EQ_INT(out.u.ctl_rep.status, 100);
    LULL_CHECK(out.u.ctl_rep.body == NULL);
    lull_msg_clear(&out);

    m.u.ctl_rep.body = (char *)"";  // empty body also travels as an empty frame and comes back NULL
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK(out.u.ctl_rep.body == NULL);
    lull_msg_clear(&out);

    m.u.ctl_rep.body = (char *)"{\"windows\":[]}";
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK_EQ_STR(out.u.ctl_rep.body, "{\"windows\":[]}");
    lull_msg_clear(&out);
    free(big);
}

LULL_TEST(round_trip_chat)
{
    char *big = s_make_filled(LULL_PROTO_MAX_BODY, 'c');
    lull_msg_t m = { .type = LULL_MSG_CHAT }, out;
    m.u.chat.conversation_id = INT64_MAX;
    m.u.chat.message_id = 0;
    m.u.chat.body = big;
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK(out.u.chat.conversation_id == INT64_MAX);
    LULL_CHECK_EQ_INT(out.u.chat.message_id, 0);
    LULL_CHECK(out.u.chat.body && strlen(out.u.chat.body) == LULL_PROTO_MAX_BODY);
    lull_msg_clear(&out);

    m.u.chat.body = (char *)"";  // empty chat body comes back as an owned "", never NULL
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK_EQ_STR(out.u.chat.body, "");
    lull_msg_clear(&out);

    m.u.chat.body = (char *)"h\xc3\xa9llo \xf0\x9f\x91\x8b";
    LULL_CHECK(s_check_round_trip(&m, &out));
    LULL_CHECK_EQ_STR(out.u.chat.body, "h\xc3\xa9llo \xf0\x9f\x91\x8b");
    lull_msg_clear(&out);
    free(big);
}

// ---- byte layout --------------------------------------------------------------------------------

LULL_TEST(wire_layout_is_big_endian_one_frame_per_field)
{
    lull_msg_t m = { .type = LULL_MSG_JOB };
    m.u.job.job_id = 0x0102030405060708ULL;
    m.u.job.conversation_id = 0x1112131415161718LL;
    m.u.job.tenant_id = 7;
    m.u.job.expected_upto = 255;
    m.u.job.upto = 256;
    m.u.job.attempt = 0x01020304;
    m.u.job.flags = LULL_JOB_MAX_WAIT;
    t_frames_t fr;
    LULL_CHECK(s_encode_frames(&fr, &m));
    LULL_CHECK_EQ_INT(fr.n, 8);
    static const uint8_t header[] = { 'L', 'U', 'L', 'L', LULL_PROTO_VERSION, LULL_MSG_JOB };
    static const uint8_t f2[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    static const uint8_t f3[] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
    static const uint8_t f4[] = { 0, 0, 0, 0, 0, 0, 0, 7 };
    static const uint8_t f5[] = { 0, 0, 0, 0, 0, 0, 0, 0xff };
    static const uint8_t f6[] = { 0, 0, 0, 0, 0, 0, 1, 0 };
    static const uint8_t f7[] = { 1, 2, 3, 4 };
    static const uint8_t f8[] = { 0, 0, 0, 1 };
    const uint8_t *want[] = { header, f2, f3, f4, f5, f6, f7, f8 };
    size_t want_len[] = { 6, 8, 8, 8, 8, 8, 4, 4 };
    for (size_t i = 0; i < 8 && i < fr.n; i++) {
        LULL_CHECK_EQ_INT(fr.len[i], want_len[i]);
        LULL_CHECK(fr.len[i] == want_len[i] && memcmp(fr.data[i], want[i], want_len[i]) == 0);
    }
    s_free_frames(&fr);

    lull_msg_t hb = { .type = LULL_MSG_HEARTBEAT, .u.heartbeat.credit = -1 };
    LULL_CHECK(s_encode_frames(&fr, &hb));
    LULL_CHECK_EQ_INT(fr.n, 2);
    LULL_CHECK(fr.n == 2 && fr.len[1] == 4 && memcmp(fr.data[1], s_be8_neg1, 4) == 0);
    s_free_frames(&fr);

    lull_msg_t rd = { .type = LULL_MSG_READY, .u.ready = { .credit = 3, .name = "w-1" } };
    LULL_CHECK(s_encode_frames(&fr, &rd));
    LULL_CHECK(fr.n == 3 && fr.len[2] == 3 && memcmp(fr.data[2], "w-1", 3) == 0);  // no NUL on the wire
    s_free_frames(&fr);
}

LULL_TEST(frame_counts_per_type)
{
    struct { lull_msg_t m; size_t frames; } cases[] = {
        { { .type = LULL_MSG_INBOUND }, 6 },
        { { .type = LULL_MSG_READY }, 3 },
        { { .type = LULL_MSG_HEARTBEAT }, 2 },
        { { .type = LULL_MSG_JOB }, 8 },
        { { .type = LULL_MSG_DONE, .u.done.outcome = LULL_OUTCOME_DUPLICATE }, 7 },
        { { .type = LULL_MSG_OUTBOX }, 2 },
        { { .type = LULL_MSG_CTL_REQ, .u.ctl_req.op = LULL_CTL_FLUSH }, 6 },
        { { .type = LULL_MSG_CTL_REP, .u.ctl_rep.status = 200 }, 4 },
        { { .type = LULL_MSG_CHAT, .u.chat.body = (char *)"x" }, 4 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zmsg_t *z = lull_proto_encode(&cases[i].m);
        LULL_CHECK(z != NULL);
        if (!z) continue;
        LULL_CHECK_EQ_INT(zmsg_size(z), cases[i].frames);
        LULL_CHECK(zmsg_size(z) <= LULL_PROTO_MAX_FRAMES);
        zmsg_destroy(&z);
    }
}

// ---- rejection paths ----------------------------------------------------------------------------

static const lull_msg_t s_inbound = { .type = LULL_MSG_INBOUND, .u.inbound = { 1, 2, 3, 4, "" } };

LULL_TEST(reject_empty_message)
{
    t_frames_t fr = { .n = 0 };
    LULL_CHECK(s_check_rejected(&fr));

    lull_msg_t out;
    char err[128] = "";
    zmsg_t *z = zmsg_new();
    LULL_CHECK_EQ_INT(lull_proto_decode(z, &out, err, sizeof err), -1);
    LULL_CHECK(err[0] != '\0');
    zmsg_destroy(&z);
    LULL_CHECK_EQ_INT(lull_proto_decode(NULL, &out, err, sizeof err), -1);
    LULL_CHECK_EQ_INT(lull_proto_decode_frames(NULL, NULL, 1, &out, err, sizeof err), -1);
}

LULL_TEST(reject_bad_header)
{
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULL\x02", 5));                   // short signature frame
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULL\x02\x01\x00", 7));           // long header frame
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "", 0));                          // empty header frame
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULX\x01\x01", 6));               // wrong signature
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "lull\x01\x01", 6));               // signature is case-sensitive
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULL\x00\x01", 6));               // version 0
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULL\x03\x01", 6));               // version 3 (a newer build)
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULL\xff\x01", 6));               // version 255
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULL\x02\x00", 6));               // type 0
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULL\x02\x0a", 6));               // type just past the last
    LULL_CHECK(s_check_corrupted(&s_inbound, 0, "LULL\x02\xc8", 6));               // type 200
}

LULL_TEST(reject_wrong_frame_count)
{
    t_frames_t fr;
    LULL_CHECK(s_encode_frames(&fr, &s_inbound));
    free(fr.data[--fr.n]);  // one too few
    LULL_CHECK(s_check_rejected(&fr));
    size_t had = fr.n;
    fr.n = 1;  // header only (the other frames freed below)
    for (size_t i = 1; i < had; i++) free(fr.data[i]);
    LULL_CHECK(s_check_rejected(&fr));
    s_free_frames(&fr);

    LULL_CHECK(s_encode_frames(&fr, &s_inbound));
    s_set_frame(&fr, fr.n, s_be8_neg1, 8);  // one too many
    LULL_CHECK(s_check_rejected(&fr));
    while (fr.n <= LULL_PROTO_MAX_FRAMES) s_set_frame(&fr, fr.n, "", 0);  // over the frame limit
    LULL_CHECK_EQ_INT(fr.n, LULL_PROTO_MAX_FRAMES + 1);
    LULL_CHECK(s_check_rejected(&fr));
    s_free_frames(&fr);

    // a header valid for a type whose frame count does not match the rest
    lull_msg_t hb = { .type = LULL_MSG_HEARTBEAT };
    LULL_CHECK(s_check_corrupted(&hb, 0, "LULL\x02\x04", 6));  // heartbeat frames under a JOB header

    // too many frames through the zmsg entry point
    zmsg_t *z = lull_proto_encode(&s_inbound);
    LULL_CHECK(z != NULL);
    while (z && zmsg_size(z) <= LULL_PROTO_MAX_FRAMES + 2) LULL_CHECK_EQ_INT(zmsg_addstr(z, ""), 0);
    lull_msg_t out;
    char err[128] = "";
    LULL_CHECK(z && lull_proto_decode(z, &out, err, sizeof err) == -1);
    LULL_CHECK(strstr(err, "too many frames") != NULL);
    zmsg_destroy(&z);
}

LULL_TEST(reject_wrong_int_frame_size)
{
    static const uint8_t nine[9] = { 0 };
    LULL_CHECK(s_check_corrupted(&s_inbound, 1, nine, 7));  // int64 frame of 7 bytes
    LULL_CHECK(s_check_corrupted(&s_inbound, 4, nine, 9));  // int64 frame of 9 bytes
    LULL_CHECK(s_check_corrupted(&s_inbound, 2, nine, 0));  // empty int64 frame
    LULL_CHECK(s_check_corrupted(&s_inbound, 3, nine, 4));  // int32-sized frame for an int64
    lull_msg_t hb = { .type = LULL_MSG_HEARTBEAT };
    LULL_CHECK(s_check_corrupted(&hb, 1, nine, 8));         // int64-sized frame for an int32
    LULL_CHECK(s_check_corrupted(&hb, 1, nine, 3));
    lull_msg_t job = { .type = LULL_MSG_JOB };
    LULL_CHECK(s_check_corrupted(&job, 1, nine, 4));        // uint64 job id of 4 bytes
    LULL_CHECK(s_check_corrupted(&job, 6, nine, 8));        // attempt (int32) of 8 bytes
}

LULL_TEST(reject_negative_ids)
{
    static const uint8_t int64_min[8] = { 0x80, 0, 0, 0, 0, 0, 0, 0 };
    for (size_t f = 1; f <= 4; f++) {  // every INBOUND field must be >= 0
        LULL_CHECK(s_check_corrupted(&s_inbound, f, s_be8_neg1, 8));
        LULL_CHECK(s_check_corrupted(&s_inbound, f, int64_min, 8));
    }
    lull_msg_t job = { .type = LULL_MSG_JOB };
    for (size_t f = 2; f <= 5; f++) LULL_CHECK(s_check_corrupted(&job, f, s_be8_neg1, 8));
    LULL_CHECK(s_check_corrupted(&job, 6, s_be8_neg1, 4));  // attempt -1
    static const uint8_t flag2[4] = { 0, 0, 0, 2 };
    LULL_CHECK(s_check_corrupted(&job, 7, s_be8_neg1, 4));  // flags -1
    LULL_CHECK(s_check_corrupted(&job, 7, flag2, 4));       // an unknown flag bit
    lull_msg_t outbox = { .type = LULL_MSG_OUTBOX };
    LULL_CHECK(s_check_corrupted(&outbox, 1, s_be8_neg1, 8));
    lull_msg_t done = { .type = LULL_MSG_DONE, .u.done.outcome = LULL_OUTCOME_REPLIED };
    LULL_CHECK(s_check_corrupted(&done, 2, s_be8_neg1, 8));  // conversation id
    LULL_CHECK(s_check_corrupted(&done, 4, s_be8_neg1, 8));  // backoff_until_ms
    LULL_CHECK(s_check_corrupted(&done, 5, s_be8_neg1, 8));  // retry_after_ms
    lull_msg_t req = { .type = LULL_MSG_CTL_REQ, .u.ctl_req.op = LULL_CTL_LIST };
    LULL_CHECK(s_check_corrupted(&req, 3, s_be8_neg1, 8));  // conversation id
    LULL_CHECK(s_check_corrupted(&req, 4, s_be8_neg1, 4));  // limit
    lull_msg_t chat = { .type = LULL_MSG_CHAT, .u.chat.body = (char *)"x" };
    LULL_CHECK(s_check_corrupted(&chat, 1, s_be8_neg1, 8));
    LULL_CHECK(s_check_corrupted(&chat, 2, s_be8_neg1, 8));

    // job ids and request ids are opaque uint64: all ones is a valid value
    t_frames_t fr;
    lull_msg_t out;
    LULL_CHECK(s_encode_frames(&fr, &job));
    s_set_frame(&fr, 1, s_be8_neg1, 8);
    LULL_CHECK_EQ_INT(s_decode_frames(&fr, &out, NULL, 0), 0);
    LULL_CHECK(out.u.job.job_id == UINT64_MAX);
    s_free_frames(&fr);
}

LULL_TEST(reject_credit_out_of_range)
{
    uint8_t b[4];
    lull_msg_t rd = { .type = LULL_MSG_READY };
    s_put_be32(b, (uint32_t)-1);
    LULL_CHECK(s_check_corrupted(&rd, 1, b, 4));  // READY credit must be >= 0
    lull_msg_t hb = { .type = LULL_MSG_HEARTBEAT };
    s_put_be32(b, (uint32_t)-2);
    LULL_CHECK(s_check_corrupted(&hb, 1, b, 4));  // HEARTBEAT credit -1 is "not stated", -2 is invalid
    s_put_be32(b, 0x80000000u);
    LULL_CHECK(s_check_corrupted(&hb, 1, b, 4));
}

LULL_TEST(reject_invalid_enums)
{
    uint8_t b[4];
    lull_msg_t done = { .type = LULL_MSG_DONE, .u.done.outcome = LULL_OUTCOME_REPLIED };
    uint32_t bad_outcomes[] = { 0, LULL_OUTCOME_MAX + 1, 0xffffffffu, 0x80000000u, 0x00000100u };
    for (size_t i = 0; i < sizeof bad_outcomes / sizeof bad_outcomes[0]; i++) {
        s_put_be32(b, bad_outcomes[i]);
        LULL_CHECK(s_check_corrupted(&done, 3, b, 4));
    }
    lull_msg_t req = { .type = LULL_MSG_CTL_REQ, .u.ctl_req.op = LULL_CTL_LIST };
    uint32_t bad_ops[] = { 0, LULL_CTL_OP_MAX + 1, 0xffffffffu };
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        s_put_be32(b, bad_ops[i]);
        LULL_CHECK(s_check_corrupted(&req, 2, b, 4));
    }
    lull_msg_t rep = { .type = LULL_MSG_CTL_REP, .u.ctl_rep.status = 200 };
    uint32_t bad_status[] = { 0, 99, 600, 0xffffffffu };
    for (size_t i = 0; i < sizeof bad_status / sizeof bad_status[0]; i++) {
        s_put_be32(b, bad_status[i]);
        LULL_CHECK(s_check_corrupted(&rep, 2, b, 4));
    }
}

LULL_TEST(reject_strings)
{
    char buf[LULL_PROTO_MAX_DETAIL + 2];
    memset(buf, 'a', sizeof buf);
    lull_msg_t rd = { .type = LULL_MSG_READY };
    LULL_CHECK(s_check_corrupted(&rd, 2, buf, LULL_PROTO_MAX_NAME + 1));  // name over the limit
    LULL_CHECK(s_check_corrupted(&rd, 2, "ab\0c", 4));                    // NUL inside
    LULL_CHECK(s_check_corrupted(&rd, 2, "abc\0", 4));                    // trailing NUL
    LULL_CHECK(s_check_corrupted(&rd, 2, "\0", 1));
    lull_msg_t done = { .type = LULL_MSG_DONE, .u.done.outcome = LULL_OUTCOME_REPLIED };
    LULL_CHECK(s_check_corrupted(&done, 6, buf, LULL_PROTO_MAX_DETAIL + 1));
    LULL_CHECK(s_check_corrupted(&done, 6, "x\0y", 3));
}

LULL_TEST(reject_bodies)
{
    char *big = s_make_filled(LULL_PROTO_MAX_BODY + 1, 'b');
    lull_msg_t chat = { .type = LULL_MSG_CHAT, .u.chat.body = (char *)"x" };
    LULL_CHECK(s_check_corrupted(&chat, 3, big, LULL_PROTO_MAX_BODY + 1));  // body over the limit
    LULL_CHECK(s_check_corrupted(&chat, 3, "hi\0there", 8));                 // NUL inside
    lull_msg_t rep = { .type = LULL_MSG_CTL_REP, .u.ctl_rep.status = 200 };
    LULL_CHECK(s_check_corrupted(&rep, 3, big, LULL_PROTO_MAX_BODY + 1));
    LULL_CHECK(s_check_corrupted(&rep, 3, "{\"a\":\0}", 7));
    free(big);
}

LULL_TEST(reject_null_frame_data)
{
    const uint8_t header[6] = { 'L', 'U', 'L', 'L', LULL_PROTO_VERSION, LULL_MSG_OUTBOX };
    const uint8_t *frames[2] = { header, NULL };
    size_t lens[2] = { 6, 8 };
    lull_msg_t out;
    char err[128] = "";
    LULL_CHECK_EQ_INT(lull_proto_decode_frames(frames, lens, 2, &out, err, sizeof err), -1);
    LULL_CHECK(err[0] != '\0');
}

LULL_TEST(decode_error_text_is_bounded)
{
    t_frames_t fr;
    LULL_CHECK(s_encode_frames(&fr, &s_inbound));
    s_set_frame(&fr, 1, s_be8_neg1, 8);
    lull_msg_t out;
    char tiny[8];
    memset(tiny, 'z', sizeof tiny);
    LULL_CHECK_EQ_INT(s_decode_frames(&fr, &out, tiny, sizeof tiny), -1);
    LULL_CHECK_EQ_INT(strlen(tiny), sizeof tiny - 1);  // truncated, still terminated
    LULL_CHECK_EQ_INT(s_decode_frames(&fr, &out, NULL, 0), -1);  // no error buffer is fine
    char full[256];
    LULL_CHECK_EQ_INT(s_decode_frames(&fr, &out, full, sizeof full), -1);
    LULL_CHECK(strstr(full, "inbound.conversation_id") != NULL);
    s_free_frames(&fr);
}

LULL_TEST(decode_zeroes_out_first)
{
    lull_msg_t out;
    memset(&out, 0xa5, sizeof out);
    lull_msg_t hb = { .type = LULL_MSG_READY, .u.ready = { .credit = 1, .name = "x" } };
    LULL_CHECK(s_check_round_trip(&hb, &out));
    LULL_CHECK_EQ_STR(out.u.ready.name, "x");
    for (size_t i = 2; i < sizeof out.u.ready.name; i++) LULL_CHECK_EQ_INT(out.u.ready.name[i], 0);
    lull_msg_clear(&out);
}

// ---- encode rejects invalid input ---------------------------------------------------------------

LULL_TEST(encode_rejects_invalid)
{
    LULL_CHECK(lull_proto_encode(NULL) == NULL);
    lull_msg_t m = { .type = (lull_msg_type_t)0 };
    LULL_CHECK(lull_proto_encode(&m) == NULL);
    m.type = (lull_msg_type_t)(LULL_MSG_TYPE_MAX + 1);
    LULL_CHECK(lull_proto_encode(&m) == NULL);
    m.type = (lull_msg_type_t)200;
    LULL_CHECK(lull_proto_encode(&m) == NULL);

    lull_msg_t rd = { .type = LULL_MSG_READY };
    memset(rd.u.ready.name, 'n', sizeof rd.u.ready.name);  // no terminator: 65 bytes
    LULL_CHECK(lull_proto_encode(&rd) == NULL);
    rd.u.ready.name[LULL_PROTO_MAX_NAME] = '\0';
    rd.u.ready.credit = -1;
    LULL_CHECK(lull_proto_encode(&rd) == NULL);

    lull_msg_t done = { .type = LULL_MSG_DONE, .u.done.outcome = LULL_OUTCOME_REPLIED };
    memset(done.u.done.detail, 'd', sizeof done.u.done.detail);
    LULL_CHECK(lull_proto_encode(&done) == NULL);
    done.u.done.detail[0] = '\0';
    done.u.done.outcome = (lull_outcome_t)0;
    LULL_CHECK(lull_proto_encode(&done) == NULL);
    done.u.done.outcome = (lull_outcome_t)(LULL_OUTCOME_MAX + 1);
    LULL_CHECK(lull_proto_encode(&done) == NULL);

    lull_msg_t in = s_inbound;
    in.u.inbound.message_id = -1;
    LULL_CHECK(lull_proto_encode(&in) == NULL);
    lull_msg_t hb = { .type = LULL_MSG_HEARTBEAT, .u.heartbeat.credit = -2 };
    LULL_CHECK(lull_proto_encode(&hb) == NULL);
    lull_msg_t req = { .type = LULL_MSG_CTL_REQ, .u.ctl_req.op = (lull_ctl_op_t)(LULL_CTL_OP_MAX + 1) };
    LULL_CHECK(lull_proto_encode(&req) == NULL);
    lull_msg_t job = { .type = LULL_MSG_JOB, .u.job.flags = LULL_JOB_FLAGS_ALL + 1 };
    LULL_CHECK(lull_proto_encode(&job) == NULL);
    lull_msg_t rep = { .type = LULL_MSG_CTL_REP, .u.ctl_rep.status = 42 };
    LULL_CHECK(lull_proto_encode(&rep) == NULL);

    char *big = s_make_filled(LULL_PROTO_MAX_BODY + 1, 'b');
    lull_msg_t chat = { .type = LULL_MSG_CHAT, .u.chat.body = NULL };
    LULL_CHECK(lull_proto_encode(&chat) == NULL);  // chat body is required
    chat.u.chat.body = big;
    LULL_CHECK(lull_proto_encode(&chat) == NULL);
    rep.u.ctl_rep.status = 200;
    rep.u.ctl_rep.body = big;
    LULL_CHECK(lull_proto_encode(&rep) == NULL);
    free(big);
}

// ---- names --------------------------------------------------------------------------------------

LULL_TEST(names)
{
    static const char *const types[] = { NULL, "inbound", "ready", "heartbeat", "job", "done",
                                         "outbox", "ctl_req", "ctl_rep", "chat" };
    for (int t = 1; t <= LULL_MSG_TYPE_MAX; t++) LULL_CHECK_EQ_STR(lull_msg_type_name(t), types[t]);
    LULL_CHECK_EQ_STR(lull_msg_type_name(0), "unknown");
    LULL_CHECK_EQ_STR(lull_msg_type_name(LULL_MSG_TYPE_MAX + 1), "unknown");
    LULL_CHECK_EQ_STR(lull_msg_type_name(-1), "unknown");

    static const char *const outcomes[] = { NULL, "replied", "superseded", "duplicate",
                                            "failed_retryable", "failed_permanent", "escalated" };
    for (int o = 1; o <= LULL_OUTCOME_MAX; o++) {
        LULL_CHECK_EQ_STR(lull_outcome_name(o), outcomes[o]);
        LULL_CHECK_EQ_INT(lull_outcome_from_name(outcomes[o]), o);
    }
    LULL_CHECK_EQ_STR(lull_outcome_name(0), "unknown");
    LULL_CHECK_EQ_STR(lull_outcome_name(LULL_OUTCOME_MAX + 1), "unknown");
    LULL_CHECK_EQ_INT(lull_outcome_from_name("unknown"), -1);
    LULL_CHECK_EQ_INT(lull_outcome_from_name("Replied"), -1);
    LULL_CHECK_EQ_INT(lull_outcome_from_name(""), -1);
    LULL_CHECK_EQ_INT(lull_outcome_from_name(NULL), -1);

    LULL_CHECK_EQ_STR(lull_ctl_op_name(LULL_CTL_LIST), "list");
    LULL_CHECK_EQ_STR(lull_ctl_op_name(LULL_CTL_CANCEL), "cancel");
    LULL_CHECK_EQ_STR(lull_ctl_op_name(LULL_CTL_FLUSH), "flush");
    LULL_CHECK_EQ_STR(lull_ctl_op_name(0), "unknown");
    LULL_CHECK_EQ_INT(lull_ctl_op_from_name("flush"), LULL_CTL_FLUSH);
    LULL_CHECK_EQ_INT(lull_ctl_op_from_name("drop"), -1);
    LULL_CHECK_EQ_INT(lull_ctl_op_from_name(NULL), -1);
}

LULL_TEST(clear_is_null_safe_and_idempotent)
{
    lull_msg_clear(NULL);
    lull_msg_t m = { .type = LULL_MSG_CHAT };
    m.u.chat.body = s_make_filled(10, 'q');
    lull_msg_clear(&m);
    LULL_CHECK_EQ_INT(m.type, 0);
    LULL_CHECK(m.u.chat.body == NULL);
    lull_msg_clear(&m);
}

// ---- send ---------------------------------------------------------------------------------------

// Receives one message from sock and decodes it (dropping `skip` leading identity frames).
static int s_recv_decode(void *sock, size_t skip, lull_msg_t *out, char *err, size_t errlen)
{
    zmsg_t *z = zmsg_recv(sock);
    if (!z) return -1;
    for (size_t i = 0; i < skip; i++) {
        zframe_t *id = zmsg_pop(z);
        zframe_destroy(&id);
    }
    int rc = lull_proto_decode(z, out, err, errlen);
    zmsg_destroy(&z);
    return rc;
}

LULL_TEST(send_on_zsock_and_raw_socket)
{
    zsock_t *a = zsock_new_pair("@inproc://test-proto-pair");
    zsock_t *b = zsock_new_pair(">inproc://test-proto-pair");
    LULL_CHECK(a && b);
    if (!a || !b) goto cleanup;
    lull_msg_t m = { .type = LULL_MSG_CHAT, .u.chat = { 42, 43, (char *)"hello" } }, out;
    char err[128] = "";
    LULL_CHECK_EQ_INT(lull_proto_send(a, &m, 0), 0);  // zsock_t
    LULL_CHECK_EQ_INT(s_recv_decode(b, 0, &out, err, sizeof err), 0);
    LULL_CHECK_EQ_STR(out.u.chat.body, "hello");
    LULL_CHECK_EQ_INT(out.u.chat.message_id, 43);
    lull_msg_clear(&out);

    lull_msg_t ob = { .type = LULL_MSG_OUTBOX, .u.outbox.outbox_id = 9 };
    LULL_CHECK_EQ_INT(lull_proto_send(zsock_resolve(b), &ob, ZMQ_DONTWAIT), 0);  // raw libzmq socket
    LULL_CHECK_EQ_INT(s_recv_decode(a, 0, &out, err, sizeof err), 0);
    LULL_CHECK_EQ_INT(out.type, LULL_MSG_OUTBOX);
    LULL_CHECK_EQ_INT(out.u.outbox.outbox_id, 9);
    lull_msg_clear(&out);

    lull_msg_t bad = { .type = LULL_MSG_CHAT };  // NULL chat body: invalid
    errno = 0;
    LULL_CHECK_EQ_INT(lull_proto_send(a, &bad, 0), -1);
    LULL_CHECK_EQ_INT(errno, EINVAL);
    errno = 0;
    LULL_CHECK_EQ_INT(lull_proto_send(NULL, &ob, 0), -1);
    LULL_CHECK_EQ_INT(errno, EINVAL);

cleanup:
    zsock_destroy(&a);
    zsock_destroy(&b);
}

LULL_TEST(send_dontwait_without_peer_fails_cleanly)
{
    zsock_t *push = zsock_new(ZMQ_PUSH);  // no peer: nothing can be queued
    LULL_CHECK(push != NULL);
    if (!push) return;
    lull_msg_t m = { .type = LULL_MSG_CTL_REP, .u.ctl_rep = { 1, 200, (char *)"{}" } };
    errno = 0;
    LULL_CHECK_EQ_INT(lull_proto_send(push, &m, ZMQ_DONTWAIT), -1);
    LULL_CHECK_EQ_INT(errno, EAGAIN);
    zsock_destroy(&push);
}

LULL_TEST(router_dealer_with_identity_frames)
{
    zsock_t *router = zsock_new_router("@inproc://test-proto-router");
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    LULL_CHECK(router && dealer);
    if (!router || !dealer) goto cleanup;
    zsock_set_identity(dealer, "worker-1");
    LULL_CHECK_EQ_INT(zsock_connect(dealer, "inproc://test-proto-router"), 0);

    lull_msg_t ready = { .type = LULL_MSG_READY, .u.ready = { .credit = 8, .name = "worker-1" } }, out;
    char err[128] = "";
    LULL_CHECK_EQ_INT(lull_proto_send(dealer, &ready, 0), 0);
    LULL_CHECK_EQ_INT(s_recv_decode(router, 1, &out, err, sizeof err), 0);  // ROUTER prepends the identity
    LULL_CHECK_EQ_INT(out.u.ready.credit, 8);
    LULL_CHECK_EQ_STR(out.u.ready.name, "worker-1");
    lull_msg_clear(&out);

    // The scheduler replies: identity frame first, then the lull frames.
    lull_msg_t job = { .type = LULL_MSG_JOB, .u.job = { 7, 1, 2, 3, 4, 1, 0 } };
    zmsg_t *z = lull_proto_encode(&job);
    LULL_CHECK(z != NULL);
    if (z) {
        LULL_CHECK_EQ_INT(zmsg_pushstr(z, "worker-1"), 0);
        LULL_CHECK_EQ_INT(zmsg_send(&z, router), 0);
        zmsg_destroy(&z);
    }
    LULL_CHECK_EQ_INT(s_recv_decode(dealer, 0, &out, err, sizeof err), 0);
    LULL_CHECK(out.u.job.job_id == 7);
    LULL_CHECK_EQ_INT(out.u.job.attempt, 1);
    lull_msg_clear(&out);

cleanup:
    zsock_destroy(&router);
    zsock_destroy(&dealer);
}

int main(void)
{
    zsys_init();
    zsys_set_linger(0);
    LULL_RUN(round_trip_inbound);
    LULL_RUN(round_trip_ready);
    LULL_RUN(round_trip_heartbeat);
    LULL_RUN(round_trip_job);
    LULL_RUN(round_trip_done);
    LULL_RUN(round_trip_outbox);
    LULL_RUN(round_trip_ctl_req);
    LULL_RUN(round_trip_ctl_rep);
    LULL_RUN(round_trip_chat);
    LULL_RUN(wire_layout_is_big_endian_one_frame_per_field);
    LULL_RUN(frame_counts_per_type);
    LULL_RUN(reject_empty_message);
    LULL_RUN(reject_bad_header);
    LULL_RUN(reject_wrong_frame_count);
    LULL_RUN(reject_wrong_int_frame_size);
    LULL_RUN(reject_negative_ids);
    LULL_RUN(reject_credit_out_of_range);
    LULL_RUN(reject_invalid_enums);
    LULL_RUN(reject_strings);
    LULL_RUN(reject_bodies);
    LULL_RUN(reject_null_frame_data);
    LULL_RUN(decode_error_text_is_bounded);
    LULL_RUN(decode_zeroes_out_first);
    LULL_RUN(encode_rejects_invalid);
    LULL_RUN(names);
    LULL_RUN(clear_is_null_safe_and_idempotent);
    LULL_RUN(send_on_zsock_and_raw_socket);
    LULL_RUN(send_dontwait_without_peer_fails_cleanly);
    LULL_RUN(router_dealer_with_identity_frames);
    return lull_test_summary();
}
