// libFuzzer target for proto/lull_proto: arbitrary frames must decode or be rejected, never crash.
// Input: [mode byte] then frames as [length][bytes]...: length is 1 byte, or 0xff + 2 bytes big-endian for 255 and
// more; a short last frame takes what is left. Odd mode: frame 1 is the next 6 bytes, unprefixed, so the search
// reaches the fields without first guessing the header's length; even mode: frame 1 is length-prefixed too.
// Oracles: raw-frame and zmsg decoding agree, and any accepted message re-encodes to the exact input frames.
#include "lull_proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define F_MAX_FRAMES (LULL_PROTO_MAX_FRAMES + 4)  // a few more than allowed, to reach "too many frames"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Splits data into frames; returns the frame count (at most F_MAX_FRAMES).
static size_t s_split_frames(const uint8_t *data, size_t size, const uint8_t **frames, size_t *lens)
{
    size_t n = 0, at = 1;
    if (size == 0) return 0;
    if (data[0] & 1) {
        frames[0] = data + at;
        lens[0] = size - at < LULL_PROTO_HEADER_SIZE ? size - at : LULL_PROTO_HEADER_SIZE;
        at += lens[0];
        n = 1;
    }
    while (at < size && n < F_MAX_FRAMES) {
        size_t len = data[at++];
        if (len == 0xff && size - at >= 2) {
            len = ((size_t)data[at] << 8) | data[at + 1];
            at += 2;
        }
        if (len > size - at) len = size - at;
        frames[n] = data + at;
        lens[n] = len;
        at += len;
        n++;
    }
    return n;
}

// True if z holds exactly the frames given.
static int s_match_frames(zmsg_t *z, const uint8_t *const *frames, const size_t *lens, size_t n)
{
    if (zmsg_size(z) != n) return 0;
    size_t i = 0;
    for (zframe_t *f = zmsg_first(z); f; f = zmsg_next(z), i++)
        if (zframe_size(f) != lens[i] || (lens[i] && memcmp(zframe_data(f), frames[i], lens[i]) != 0)) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *frames[F_MAX_FRAMES];
    size_t lens[F_MAX_FRAMES];
    size_t n = s_split_frames(data, size, frames, lens);

    lull_msg_t out;
    char err[128];
    int rc = lull_proto_decode_frames(frames, lens, n, &out, err, sizeof err);
    if (rc != 0 && rc != -1) abort();
    if (rc == -1 && (err[0] == '\0' || strchr(err, '\n'))) abort();  // one-line reason required

    // The zmsg entry point must give the same verdict.
    zmsg_t *z = zmsg_new();
    for (size_t i = 0; i < n; i++)
        if (zmsg_addmem(z, frames[i], lens[i]) != 0) abort();
    lull_msg_t out2;
    int rc2 = lull_proto_decode(z, &out2, NULL, 0);
    if (rc2 != rc) abort();
    zmsg_destroy(&z);

    if (rc == 0) {
        // The encoding is canonical: what was accepted must encode back to the same bytes.
        zmsg_t *again = lull_proto_encode(&out);
        if (!again || !s_match_frames(again, frames, lens, n)) abort();
        zmsg_destroy(&again);
        (void)lull_msg_type_name(out.type);
        if (out.type == LULL_MSG_DONE) (void)lull_outcome_name(out.u.done.outcome);
        if (out.type == LULL_MSG_CTL_REQ) (void)lull_ctl_op_name(out.u.ctl_req.op);
    }
    lull_msg_clear(&out);
    lull_msg_clear(&out2);
    return 0;
}
