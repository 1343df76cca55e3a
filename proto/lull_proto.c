// Wire codec for lull's inter-process messages: one field table per type drives encode, decode and checks.
#include "lull_proto.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Enum fields travel as 4-byte integers and are read/written through int32_t.
_Static_assert(sizeof(lull_outcome_t) == sizeof(int32_t), "lull_outcome_t must be 32 bits");
_Static_assert(sizeof(lull_ctl_op_t) == sizeof(int32_t), "lull_ctl_op_t must be 32 bits");
_Static_assert(LULL_PROTO_VERSION >= 0 && LULL_PROTO_VERSION <= 255, "version is one byte");

typedef enum {
    S_I64,   // int64_t, 8 bytes big-endian, range [min, max]
    S_U64,   // uint64_t, 8 bytes big-endian, any value
    S_I32,   // int32_t or a 32-bit enum, 4 bytes big-endian, range [min, max]
    S_TEXT,  // char[max + 1] inside the struct: 0..max bytes, no NUL
    S_BODY   // owned char *: 0..max bytes, no NUL; nullable: NULL <-> empty frame
} s_kind_t;

typedef struct {
    const char *name;  // "job.attempt", for error messages; NULL ends a field list
    s_kind_t kind;
    size_t offset;     // offsetof(lull_msg_t, u.<type>.<field>)
    int64_t min;       // integers: smallest allowed value
    int64_t max;       // integers: largest allowed value; strings: byte limit
    bool nullable;     // S_BODY: NULL allowed (sent as an empty frame, decoded back to NULL)
} s_field_t;

typedef struct {
    const char *name;                               // "inbound", ...; NULL for unused slots
    s_field_t fields[LULL_PROTO_MAX_FRAMES - 1];    // in wire order; frame 2 is fields[0]
} s_type_t;

#define S_OFF(t, f) offsetof(lull_msg_t, u.t.f)
#define S_INT64(t, f, lo) { #t "." #f, S_I64, S_OFF(t, f), (lo), INT64_MAX, false }
#define S_UINT64(t, f) { #t "." #f, S_U64, S_OFF(t, f), 0, 0, false }
#define S_INT32(t, f, lo, hi) { #t "." #f, S_I32, S_OFF(t, f), (lo), (hi), false }
#define S_STRING(t, f, lim) { #t "." #f, S_TEXT, S_OFF(t, f), 0, (lim), false }
#define S_OWNED(t, f, nul) { #t "." #f, S_BODY, S_OFF(t, f), 0, LULL_PROTO_MAX_BODY, (nul) }

static const s_type_t s_types[LULL_MSG_TYPE_MAX + 1] = {
    [LULL_MSG_INBOUND] = { "inbound",
        { S_INT64(inbound, conversation_id, 0), S_INT64(inbound, message_id, 0), S_INT64(inbound, tenant_id, 0),
          S_INT64(inbound, received_ms, 0), S_STRING(inbound, channel, LULL_PROTO_MAX_CHANNEL) } },
    [LULL_MSG_READY] = { "ready",
        { S_INT32(ready, credit, 0, INT32_MAX), S_STRING(ready, name, LULL_PROTO_MAX_NAME) } },
    [LULL_MSG_HEARTBEAT] = { "heartbeat",
        { S_INT32(heartbeat, credit, -1, INT32_MAX) } },
    [LULL_MSG_JOB] = { "job",
        { S_UINT64(job, job_id), S_INT64(job, conversation_id, 0), S_INT64(job, tenant_id, 0),
          S_INT64(job, expected_upto, 0), S_INT64(job, upto, 0), S_INT32(job, attempt, 0, INT32_MAX),
          S_INT32(job, flags, 0, LULL_JOB_FLAGS_ALL) } },
    [LULL_MSG_DONE] = { "done",
        { S_UINT64(done, job_id), S_INT64(done, conversation_id, 0),
          S_INT32(done, outcome, 1, LULL_OUTCOME_MAX), S_INT64(done, backoff_until_ms, 0),
          S_INT64(done, retry_after_ms, 0), S_STRING(done, detail, LULL_PROTO_MAX_DETAIL) } },
    [LULL_MSG_OUTBOX] = { "outbox",
        { S_INT64(outbox, outbox_id, 0) } },
    [LULL_MSG_CTL_REQ] = { "ctl_req",
        { S_UINT64(ctl_req, req_id), S_INT32(ctl_req, op, 1, LULL_CTL_OP_MAX),
          S_INT64(ctl_req, conversation_id, 0), S_INT32(ctl_req, limit, 0, INT32_MAX),
          S_OWNED(ctl_req, body, true) } },
    [LULL_MSG_CTL_REP] = { "ctl_rep",
        { S_UINT64(ctl_rep, req_id), S_INT32(ctl_rep, status, 100, 599), S_OWNED(ctl_rep, body, true) } },
    [LULL_MSG_CHAT] = { "chat",
        { S_INT64(chat, conversation_id, 0), S_INT64(chat, message_id, 0), S_OWNED(chat, body, false) } },
};

static const char *const s_outcome_names[LULL_OUTCOME_MAX + 1] = {
    [LULL_OUTCOME_REPLIED] = "replied",
    [LULL_OUTCOME_SUPERSEDED] = "superseded",
    [LULL_OUTCOME_DUPLICATE] = "duplicate",
    [LULL_OUTCOME_FAILED_RETRYABLE] = "failed_retryable",
    [LULL_OUTCOME_FAILED_PERMANENT] = "failed_permanent",
    [LULL_OUTCOME_ESCALATED] = "escalated",
};

static const char *const s_ctl_op_names[LULL_CTL_OP_MAX + 1] = {
    [LULL_CTL_LIST] = "list",
    [LULL_CTL_CANCEL] = "cancel",
    [LULL_CTL_FLUSH] = "flush",
    [LULL_CTL_TRY] = "try",
};

// Writes a one-line reason into err (if any room) and returns -1.
__attribute__((format(printf, 3, 4))) static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

// Table entry for a type, or NULL when the type is out of range.
static const s_type_t *s_find_type(int64_t type)
{
    if (type < 1 || type > LULL_MSG_TYPE_MAX) return NULL;
    return &s_types[type];
}

// Number of fields (frames after the header) of a type.
static size_t s_count_fields(const s_type_t *t)
{
    size_t n = 0;
    while (n < LULL_PROTO_MAX_FRAMES - 1 && t->fields[n].name) n++;
    return n;
}

// Bytes a fixed-width field takes on the wire; 0 for strings.
static size_t s_get_width(s_kind_t kind)
{
    switch (kind) {
    case S_I64:
    case S_U64: return 8;
    case S_I32: return 4;
    default: return 0;
    }
}

static void s_put_be(uint8_t *p, uint64_t v, size_t width)
{
    for (size_t i = 0; i < width; i++) p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

static uint64_t s_get_be(const uint8_t *p, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++) v = (v << 8) | p[i];
    return v;
}

// Two's-complement reinterpretation without implementation-defined conversions.
static int64_t s_make_signed(uint64_t u, size_t width)
{
    if (width == 4) {
        uint32_t u32 = (uint32_t)u;
        return u32 <= INT32_MAX ? (int64_t)u32 : -(int64_t)(UINT32_MAX - u32) - 1;
    }
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(UINT64_MAX - u) - 1;
}

// Wire bits of an integer field of msg (two's complement for signed fields).
static uint64_t s_load_raw(const lull_msg_t *msg, const s_field_t *f)
{
    const unsigned char *at = (const unsigned char *)msg + f->offset;
    if (f->kind == S_I32) {
        int32_t v;
        memcpy(&v, at, sizeof v);
        return (uint64_t)(uint32_t)v;
    }
    uint64_t u;  // int64_t and uint64_t share their object representation
    memcpy(&u, at, sizeof u);
    return u;
}

// Stores wire bits into an integer field of out.
static void s_store_raw(lull_msg_t *out, const s_field_t *f, uint64_t raw)
{
    unsigned char *at = (unsigned char *)out + f->offset;
    if (f->kind == S_I32) {
        int32_t v = (int32_t)s_make_signed(raw, 4);
        memcpy(at, &v, sizeof v);
    } else {
        memcpy(at, &raw, sizeof raw);
    }
}

// Checks one field of a message against its table entry (shared by encode and decode).
static int s_check_field(const lull_msg_t *msg, const s_field_t *f, char *err, size_t errlen)
{
    const unsigned char *at = (const unsigned char *)msg + f->offset;
    if (f->kind == S_I64 || f->kind == S_I32) {
        int64_t v = s_make_signed(s_load_raw(msg, f), s_get_width(f->kind));
        if (v < f->min || v > f->max)
            return s_fail(err, errlen, "%s out of range: %" PRId64 " not in [%" PRId64 ", %" PRId64 "]", f->name, v,
                          f->min, f->max);
        return 0;
    }
    if (f->kind == S_TEXT) {
        if (strnlen((const char *)at, (size_t)f->max + 1) > (size_t)f->max)
            return s_fail(err, errlen, "%s too long (max %" PRId64 " bytes)", f->name, f->max);
        return 0;
    }
    if (f->kind == S_BODY) {
        const char *s;
        memcpy(&s, at, sizeof s);
        if (!s) return f->nullable ? 0 : s_fail(err, errlen, "%s is NULL", f->name);
        if (strnlen(s, (size_t)f->max + 1) > (size_t)f->max)
            return s_fail(err, errlen, "%s too long (max %" PRId64 " bytes)", f->name, f->max);
    }
    return 0;
}

// Appends one field of msg to z as a frame.
static int s_encode_field(zmsg_t *z, const lull_msg_t *msg, const s_field_t *f)
{
    const unsigned char *at = (const unsigned char *)msg + f->offset;
    size_t width = s_get_width(f->kind);
    if (width > 0) {
        uint8_t buf[8];
        s_put_be(buf, s_load_raw(msg, f), width);
        return zmsg_addmem(z, buf, width);
    }
    const char *s = (const char *)at;
    if (f->kind == S_BODY) memcpy(&s, at, sizeof s);
    return zmsg_addmem(z, s, s ? strlen(s) : 0);
}

// Parses one frame into a field of out; integers are range-checked, strings length- and NUL-checked.
static int s_decode_field(lull_msg_t *out, const s_field_t *f, size_t frame_no, const uint8_t *data, size_t len,
                          char *err, size_t errlen)
{
    unsigned char *at = (unsigned char *)out + f->offset;
    size_t width = s_get_width(f->kind);
    if (width > 0) {
        if (len != width)
            return s_fail(err, errlen, "frame %zu (%s): %zu bytes, expected %zu", frame_no, f->name, len, width);
        s_store_raw(out, f, s_get_be(data, width));
        return s_check_field(out, f, err, errlen);
    }
    if (len > (size_t)f->max)
        return s_fail(err, errlen, "frame %zu (%s): %zu bytes, max %" PRId64, frame_no, f->name, len, f->max);
    if (len > 0 && memchr(data, '\0', len))
        return s_fail(err, errlen, "frame %zu (%s): contains a NUL byte", frame_no, f->name);
    if (f->kind == S_TEXT) {
        if (len > 0) memcpy(at, data, len);
        at[len] = '\0';
        return 0;
    }
    char *s = NULL;
    if (len > 0 || !f->nullable) {
        s = malloc(len + 1);
        if (!s) return s_fail(err, errlen, "frame %zu (%s): out of memory", frame_no, f->name);
        if (len > 0) memcpy(s, data, len);
        s[len] = '\0';
    }
    memcpy(at, &s, sizeof s);
    return 0;
}

zmsg_t *lull_proto_encode(const lull_msg_t *msg)
{
    zmsg_t *z = NULL;
    uint8_t header[LULL_PROTO_HEADER_SIZE] = { 'L', 'U', 'L', 'L', LULL_PROTO_VERSION, 0 };
    if (!msg) return NULL;
    const s_type_t *t = s_find_type(msg->type);
    if (!t) return NULL;
    size_t n = s_count_fields(t);
    for (size_t i = 0; i < n; i++)
        if (s_check_field(msg, &t->fields[i], NULL, 0) != 0) return NULL;

    z = zmsg_new();
    if (!z) goto cleanup;
    header[5] = (uint8_t)msg->type;
    if (zmsg_addmem(z, header, sizeof header) != 0) goto cleanup;
    for (size_t i = 0; i < n; i++)
        if (s_encode_field(z, msg, &t->fields[i]) != 0) goto cleanup;
    return z;

cleanup:
    zmsg_destroy(&z);
    return NULL;
}

int lull_proto_decode_frames(const uint8_t *const *frames, const size_t *lens, size_t nframes, lull_msg_t *out,
                             char *err, size_t errlen)
{
    assert(out);
    memset(out, 0, sizeof *out);
    if (err && errlen > 0) err[0] = '\0';
    if (nframes == 0) return s_fail(err, errlen, "empty message");
    if (nframes > LULL_PROTO_MAX_FRAMES)
        return s_fail(err, errlen, "too many frames: %zu (max %d)", nframes, LULL_PROTO_MAX_FRAMES);
    if (!frames || !lens) return s_fail(err, errlen, "no frame data");
    for (size_t i = 0; i < nframes; i++)
        if (!frames[i] && lens[i] > 0) return s_fail(err, errlen, "frame %zu: NULL data", i + 1);

    const uint8_t *h = frames[0];
    if (lens[0] != LULL_PROTO_HEADER_SIZE)
        return s_fail(err, errlen, "frame 1 (header): %zu bytes, expected %d", lens[0], LULL_PROTO_HEADER_SIZE);
    if (memcmp(h, LULL_PROTO_SIGNATURE, 4) != 0) return s_fail(err, errlen, "frame 1 (header): bad signature");
    if (h[4] != LULL_PROTO_VERSION)
        return s_fail(err, errlen, "frame 1 (header): version %u, expected %d", (unsigned)h[4], LULL_PROTO_VERSION);
    const s_type_t *t = s_find_type(h[5]);
    if (!t) return s_fail(err, errlen, "frame 1 (header): unknown type %u", (unsigned)h[5]);
    size_t n = s_count_fields(t);
    if (nframes != n + 1)
        return s_fail(err, errlen, "%s: %zu frames, expected %zu", t->name, nframes, n + 1);

    out->type = (lull_msg_type_t)h[5];
    for (size_t i = 0; i < n; i++) {
        if (s_decode_field(out, &t->fields[i], i + 2, frames[i + 1], lens[i + 1], err, errlen) != 0) {
            lull_msg_clear(out);
            return -1;
        }
    }
    return 0;
}

int lull_proto_decode(zmsg_t *msg, lull_msg_t *out, char *err, size_t errlen)
{
    assert(out);
    const uint8_t *frames[LULL_PROTO_MAX_FRAMES];
    size_t lens[LULL_PROTO_MAX_FRAMES];
    if (!msg) {
        memset(out, 0, sizeof *out);
        return s_fail(err, errlen, "no message");
    }
    // Only the first MAX_FRAMES are collected; decode_frames rejects a larger count before reading them.
    size_t n = zmsg_size(msg), i = 0;
    for (zframe_t *f = zmsg_first(msg); f && i < LULL_PROTO_MAX_FRAMES; f = zmsg_next(msg), i++) {
        frames[i] = zframe_data(f);
        lens[i] = zframe_size(f);
    }
    return lull_proto_decode_frames(frames, lens, n, out, err, errlen);
}

void lull_msg_clear(lull_msg_t *msg)
{
    if (!msg) return;
    const s_type_t *t = s_find_type(msg->type);
    size_t n = t ? s_count_fields(t) : 0;
    for (size_t i = 0; i < n; i++) {
        if (t->fields[i].kind != S_BODY) continue;
        char *s;
        memcpy(&s, (unsigned char *)msg + t->fields[i].offset, sizeof s);
        free(s);
    }
    memset(msg, 0, sizeof *msg);
}

// Looks v up in a table of names indexed from 1; "unknown" when out of range.
static const char *s_find_name(const char *const *names, int count, int v)
{
    return (v >= 1 && v < count && names[v]) ? names[v] : "unknown";
}

// Index of name in a table of names indexed from 1; -1 when absent.
static int s_find_index(const char *const *names, int count, const char *name)
{
    if (!name) return -1;
    for (int i = 1; i < count; i++)
        if (names[i] && strcmp(names[i], name) == 0) return i;
    return -1;
}

const char *lull_msg_type_name(int type)
{
    const s_type_t *t = s_find_type(type);
    return t ? t->name : "unknown";
}

const char *lull_outcome_name(int outcome)
{
    return s_find_name(s_outcome_names, LULL_OUTCOME_MAX + 1, outcome);
}

int lull_outcome_from_name(const char *name)
{
    return s_find_index(s_outcome_names, LULL_OUTCOME_MAX + 1, name);
}

const char *lull_ctl_op_name(int op)
{
    return s_find_name(s_ctl_op_names, LULL_CTL_OP_MAX + 1, op);
}

int lull_ctl_op_from_name(const char *name)
{
    return s_find_index(s_ctl_op_names, LULL_CTL_OP_MAX + 1, name);
}

int lull_proto_send(void *sock, const lull_msg_t *msg, int flags)
{
    // zmsg_send takes no flags (no ZMQ_DONTWAIT), so frames go out through zmq_send on the resolved handle;
    // zsock_resolve maps a zsock_t or zactor_t to its libzmq socket and passes a raw libzmq socket through.
    void *handle = sock ? zsock_resolve(sock) : NULL;
    if (!handle) {
        errno = EINVAL;
        return -1;
    }
    zmsg_t *z = lull_proto_encode(msg);
    if (!z) {
        errno = EINVAL;
        return -1;
    }
    int rc = 0;
    size_t n = zmsg_size(z), i = 0;
    flags &= ~ZMQ_SNDMORE;
    // libzmq queues a multipart message atomically: only the first frame can hit the HWM (EAGAIN).
    for (zframe_t *f = zmsg_first(z); f; f = zmsg_next(z), i++) {
        if (zmq_send(handle, zframe_data(f), zframe_size(f), flags | (i + 1 < n ? ZMQ_SNDMORE : 0)) == -1) {
            rc = -1;
            break;
        }
    }
    int saved = errno;
    zmsg_destroy(&z);
    errno = saved;
    return rc;
}

int lull_proto_shard(int64_t conversation_id, int nshards)
{
    if (nshards <= 1) return 0;
    uint64_t x = (uint64_t)conversation_id;  // splitmix64 finaliser: neighbouring ids spread evenly
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (int)(x % (uint64_t)nshards);
}

int lull_proto_partition(int64_t conversation_id, int npartitions)
{
    return npartitions <= 1 || conversation_id < 0 ? 0 : (int)(conversation_id % npartitions);
}
