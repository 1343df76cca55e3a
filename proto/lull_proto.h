// Wire codec for the multipart ZeroMQ messages lull's processes exchange (layout in proto/README.md).
#ifndef LULL_PROTO_H
#define LULL_PROTO_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#define LULL_PROTO_VERSION 2
#define LULL_PROTO_MAX_FRAMES 16        // lull frames per message (identity frames excluded)
#define LULL_PROTO_MAX_CHANNEL 16  // INBOUND channel name bytes
#define LULL_PROTO_MAX_NAME 64          // worker name bytes
#define LULL_PROTO_MAX_DETAIL 256       // DONE detail bytes
#define LULL_PROTO_MAX_BODY (1 << 20)   // CTL_REP / CHAT body bytes
#define LULL_PROTO_SIGNATURE "LULL"     // first 4 bytes of frame 1
#define LULL_PROTO_HEADER_SIZE 6        // frame 1: signature + version byte + type byte

typedef enum {
    LULL_MSG_INBOUND = 1,
    LULL_MSG_READY,
    LULL_MSG_HEARTBEAT,
    LULL_MSG_JOB,
    LULL_MSG_DONE,
    LULL_MSG_OUTBOX,
    LULL_MSG_CTL_REQ,
    LULL_MSG_CTL_REP,
    LULL_MSG_CHAT
} lull_msg_type_t;
#define LULL_MSG_TYPE_MAX LULL_MSG_CHAT

typedef enum {
    LULL_OUTCOME_REPLIED = 1,
    LULL_OUTCOME_SUPERSEDED,
    LULL_OUTCOME_DUPLICATE,
    LULL_OUTCOME_FAILED_RETRYABLE,
    LULL_OUTCOME_FAILED_PERMANENT,
    LULL_OUTCOME_ESCALATED
} lull_outcome_t;
#define LULL_OUTCOME_MAX LULL_OUTCOME_ESCALATED

typedef enum { LULL_CTL_LIST = 1, LULL_CTL_CANCEL, LULL_CTL_FLUSH, LULL_CTL_TRY } lull_ctl_op_t;
#define LULL_CTL_OP_MAX LULL_CTL_TRY

// JOB flags.
#define LULL_JOB_MAX_WAIT 1  // dispatched at the burst's max wait: the reply commits even if newer messages came
#define LULL_JOB_FLAGS_ALL LULL_JOB_MAX_WAIT

// Plain data: one decoded message. Ranges enforced by encode and decode are listed in proto/README.md.
typedef struct {
    lull_msg_type_t type;
    union {
        struct {
            int64_t conversation_id;  // >= 0
            int64_t message_id;       // >= 0
            int64_t tenant_id;        // >= 0
            int64_t received_ms;      // wall clock, ms since the Unix epoch, >= 0
            char channel[LULL_PROTO_MAX_CHANNEL + 1];  // "sms", "whatsapp", … (per-channel windows); may be empty
        } inbound;
        struct {
            int32_t credit;                      // jobs the worker can take now, >= 0
            char name[LULL_PROTO_MAX_NAME + 1];  // worker name, NUL-terminated, may be empty
        } ready;
        struct {
            int32_t credit;  // both directions; -1 = not stated, else >= 0
        } heartbeat;
        struct {
            uint64_t job_id;        // any value
            int64_t conversation_id;  // >= 0
            int64_t tenant_id;        // >= 0
            int64_t expected_upto;    // answered_upto the CAS expects, >= 0 (0 = nothing answered yet)
            int64_t upto;             // newest inbound message id this job answers, >= 0
            int32_t attempt;          // >= 0
            int32_t flags;            // LULL_JOB_* bits, 0 .. LULL_JOB_FLAGS_ALL
        } job;
        struct {
            uint64_t job_id;
            int64_t conversation_id;             // >= 0
            lull_outcome_t outcome;              // 1 .. LULL_OUTCOME_MAX
            int64_t backoff_until_ms;            // wall clock ms; 0 = no back-pressure
            int64_t retry_after_ms;              // milliseconds; 0 = none
            char detail[LULL_PROTO_MAX_DETAIL + 1];  // NUL-terminated, may be empty
        } done;
        struct {
            int64_t outbox_id;  // >= 0
        } outbox;
        struct {
            uint64_t req_id;
            lull_ctl_op_t op;          // 1 .. LULL_CTL_OP_MAX
            int64_t conversation_id;   // >= 0; cancel/flush: the target; list: only ids above it (paging)
            int32_t limit;             // rows for LIST, >= 0
            char *body;                // owned JSON text for TRY, may be NULL; an empty body travels as NULL
        } ctl_req;
        struct {
            uint64_t req_id;
            int32_t status;  // HTTP-like, 100 .. 599
            char *body;      // owned JSON text, may be NULL; an empty body travels as NULL
        } ctl_rep;
        struct {
            int64_t conversation_id;  // >= 0
            int64_t message_id;       // >= 0
            char *body;               // owned UTF-8 text, never NULL (may be "")
        } chat;
    } u;
} lull_msg_t;

// Encodes msg into a new multipart message; NULL on invalid msg (bad type, oversized string). Caller owns the result.
zmsg_t *lull_proto_encode(const lull_msg_t *msg) __attribute__((warn_unused_result));

// Decodes a multipart message (borrowed, not destroyed) into *out, zeroed first; 0, or -1 with a one-line reason in err.
int lull_proto_decode(zmsg_t *msg, lull_msg_t *out, char *err, size_t errlen) __attribute__((warn_unused_result));

// Decodes from raw frames (used by the fuzzer and by decode above); same contract as lull_proto_decode.
int lull_proto_decode_frames(const uint8_t *const *frames, const size_t *lens, size_t nframes, lull_msg_t *out,
                             char *err, size_t errlen);

// Frees owned pointers inside msg and zeroes it; NULL-safe.
void lull_msg_clear(lull_msg_t *msg);

// Name of a message type for logs ("inbound", "ctl_rep", ...); "unknown" when out of range. Static string.
const char *lull_msg_type_name(int type);

// Name of a DONE outcome for logs and the database ("replied", "failed_retryable", ...); "unknown" when out of range.
const char *lull_outcome_name(int outcome);

// Parses an outcome name (as lull_outcome_name spells it) back; -1 if unknown or NULL.
int lull_outcome_from_name(const char *name);

// Name of a control operation ("list", "cancel", "flush"); "unknown" when out of range. Static string.
const char *lull_ctl_op_name(int op);

// Parses a control operation name back; -1 if unknown or NULL.
int lull_ctl_op_from_name(const char *name);

// Encodes msg and sends it on sock (zsock_t, zactor_t or raw libzmq socket); flags as zmq_send (e.g. ZMQ_DONTWAIT).
// 0 on success; -1 with errno set (EINVAL for an invalid msg or socket, EAGAIN ...). Never leaks on failure.
int lull_proto_send(void *sock, const lull_msg_t *msg, int flags);

// The scheduler shard that owns a conversation: a 64-bit mix of the id, modulo nshards (nshards >= 1).
// Ingress, the admin API and every tool must use this one function so they agree.
int lull_proto_shard(int64_t conversation_id, int nshards);
// The scheduler partition of a conversation: id % npartitions, exactly as the database computes
// conversations.partition (npartitions >= 1; a negative id maps to 0). It never changes, whatever the number of
// schedulers; the owner of the partition (table sched_partitions) wakes it.
int lull_proto_partition(int64_t conversation_id, int npartitions);

#endif
