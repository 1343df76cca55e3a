// Optional archive of fetched media to S3-compatible storage: one PUT per file, signed with libcurl's AWS
// SigV4 (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3", the payload's SHA-256 in x-amz-content-sha256), the object
// key then written on the message's media entry (messages.media[i].s3_key). A failure is logged; it never
// touches the job.
#ifndef WORKER_S3_H
#define WORKER_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lull_db.h"
#include "lull_http.h"
#include "worker_config.h"

typedef struct worker_s3 worker_s3_t;

// The archive of cfg, putting through http (borrowed; destroy the client first); NULL when off (no endpoint
// or bucket, or a key missing: logged) or out of memory.
worker_s3_t *worker_s3_new(const worker_cfg_t *cfg, lull_http_t *http, lull_db_t *db);
// Frees; nulls the pointer. The client's requests must have ended (lull_http_destroy first).
void worker_s3_destroy(worker_s3_t **self_p);
// Archives len bytes of data (copied) of entry `entry` of message msg_id under
// "media/t<tenant>/c<conv>/m<msg>-<entry>.<ext>". Nothing happens when self is NULL.
void worker_s3_put(worker_s3_t *self, int64_t tenant_id, int64_t conv_id, int64_t msg_id, int entry, const char *mime,
                   const char *data, size_t len);
// The file extension for a media type ("jpg", "png", "ogg", … "bin"). Static string.
const char *worker_s3_ext(const char *mime);

#endif
