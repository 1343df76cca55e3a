// Media the model can see and hear: the images of the burst being answered are downloaded (Twilio media
// with basic auth on Twilio's API host only, Meta media through the Graph API with the bearer token on Meta's
// hosts only, redirects followed by hand to allowed hosts without credentials), bounded in size and type, and
// given to the model as image items; voice notes are transcribed once (OpenAI-compatible
// /audio/transcriptions, stored in messages.transcript); everything else, and every failure, becomes a short
// note in the message's text. A media problem never fails a job.
#ifndef WORKER_MEDIA_H
#define WORKER_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_db.h"
#include "lull_loop.h"
#include "worker_config.h"
#include "worker_llm.h"
#include "worker_load.h"

typedef struct worker_media worker_media_t;
typedef struct worker_media_job worker_media_job_t;

// Called once when every fetch of a job's media has ended (never from inside worker_media_start).
typedef void(worker_media_done_fn)(worker_media_job_t *mj, void *arg);

// The media client of a worker, on loop; cfg and db are borrowed for its life. NULL on failure.
worker_media_t *worker_media_new(const worker_cfg_t *cfg, lull_loop_t *loop, lull_db_t *db);
// Aborts the fetches in flight (their jobs were cancelled before) and frees; nulls the pointer.
void worker_media_destroy(worker_media_t **self_p);

// Starts reading the media of l's history (l must stay until the job is cancelled): the burst's images and
// voice notes are fetched, at most LULL_MEDIA_MAX_PER_JOB. Caller owns the result (worker_media_job_cancel);
// NULL when out of memory. When worker_media_pending is false afterwards, the job is ready at once.
worker_media_job_t *worker_media_start(worker_media_t *self, worker_load_t *l, int64_t conv_id,
                                       worker_media_done_fn *done, void *arg);
// True while fetches of the job are in flight (done will be called).
bool worker_media_pending(const worker_media_job_t *mj);
// Rewrites the bodies of l's history with the media notes and transcripts (the strings live in mj). 0/-1.
int worker_media_apply(worker_media_job_t *mj, worker_load_t *l) __attribute__((warn_unused_result));
// Appends the images of message msg_id fetched for the job to conv (after its text). 0/-1 (full or no memory).
int worker_media_add_images(const worker_media_job_t *mj, int64_t msg_id, worker_conv_t *conv)
    __attribute__((warn_unused_result));
// Ends the job's media: frees now, or when its last fetch ends (done is then not called). Nulls the pointer.
void worker_media_job_cancel(worker_media_job_t **mj_p);

// The kind of a media entry of messages.media: "image", "audio", "video", "document", "sticker", … from its
// "kind" (Meta) or content type (Twilio); "file" when neither says. Static string.
const char *worker_media_kind(const char *kind, const char *content_type);
// True when host (lowercase compare) is the host of url. url must be absolute http(s).
bool worker_media_same_host(const char *url, const char *host);

#endif
