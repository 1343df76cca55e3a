// The group-commit writer: a thread with its own database connection that stores the requests handed to it in
// batches (one lull_ingress_store() call = one transaction for many webhooks), reports each request's own
// outcome, pushes INBOUND to the scheduler shards after the commit, and then calls each request's done callback.
#ifndef INGRESS_WRITER_H
#define INGRESS_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "lull_config.h"
#include "lull_metrics.h"
#include "lull_schedmap.h"

typedef enum {
    INGRESS_OP_STORE = 0,  // store one message (row_json)
    INGRESS_OP_SESSION,    // create a web chat session (arg: session id, tenant slug or NULL, metadata JSON)
    INGRESS_OP_HISTORY,    // read a web chat session's messages (arg: session id)
    INGRESS_OP_STATUS,     // a Twilio status callback (arg: outbox id or NULL, MessageSid, MessageStatus, ErrorCode or NULL);
                           // also a WhatsApp Cloud API status (channel "meta", arg[1..3]: wamid, status, error or NULL)
    INGRESS_OP_MULTI       // one request's STORE and STATUS items (subs, in order): the messages stored in this batch's
                           // transaction; done() is called for this item only, its outcome the worst of its subs'
} ingress_op_t;

typedef enum {
    INGRESS_OUT_NEW = 0,         // committed
    INGRESS_OUT_DUPLICATE,       // the provider message id was already stored; nothing new
    INGRESS_OUT_UNKNOWN_TENANT,  // explicit tenant that does not exist
    INGRESS_OUT_UNKNOWN_SESSION, // web chat session that does not exist (or belongs to another user)
    INGRESS_OUT_UNAVAILABLE,     // database unreachable or the outcome is unknown: nothing acknowledged
    INGRESS_OUT_FAILED,          // the database refused this row
    INGRESS_OUT_OK,              // SESSION / HISTORY / STATUS done (result_json)
    INGRESS_OUT_SIG_MISSING,     // STORE with check_sig: the tenant requires a signature and the request has none
    INGRESS_OUT_SIG_INVALID,     // STORE with check_sig: the signature is wrong, expired or malformed
    INGRESS_OUT_SIG_UNAVAILABLE, // STORE with check_sig: the tenant's secret variable is unset or not LULL_TENANT_…
    INGRESS_OUT_ORIGIN_REFUSED   // SESSION / STORE with origin: the tenant does not list that web chat origin
} ingress_outcome_t;

typedef struct ingress_item ingress_item_t;
// Called from the writer thread when the item is finished; the writer never touches the item afterwards.
typedef void(ingress_item_done_fn)(ingress_item_t *item, void *arg);

// One request for the writer: plain data owned by the caller (the HTTP request), borrowed by the writer from
// ingress_writer_submit() until done() is called.
struct ingress_item {
    ingress_op_t op;
    const char *row_json;     // STORE: a JSON object of lull_ingress_row fields (without "i"), non-empty
    const char *channel;      // STORE: message channel (for in-batch dedupe and INBOUND)
    const char *provider_id;  // STORE: dedupe key or NULL
    bool wake;                // STORE: push INBOUND when it was new
    uint32_t affinity;        // STORE, MULTI: a hash of the contact (ingress_row_affinity); its items all go to
                              // the same writer thread. 0: any (the least busy)
    int64_t received_ms;      // wall clock when the request arrived, ms
    // STORE of a generic webhook: when the row's tenant names a webhook_secret_env, the request must carry a valid
    // Standard Webhooks signature over body (headers: webhook-id, webhook-timestamp, webhook-signature; NULL when
    // absent). All borrowed like row_json.
    bool check_sig;
    const char *sig_headers[3];
    const char *body;
    size_t body_len;
    const char *arg[4];       // SESSION / HISTORY / STATUS arguments
    // SESSION and a web chat STORE from a browser page of another origin: the Origin header, which the tenant's
    // chat_allowed_origins must list; NULL = same origin or no browser (borrowed like row_json)
    const char *origin;
    ingress_item_t *subs;     // MULTI: the items (borrowed like row_json; their done is not called)
    size_t nsubs;
    // results
    ingress_outcome_t outcome;
    int64_t tenant_id, contact_id, conversation_id, message_id;
    int64_t window_ms;
    bool sig_verified;        // STORE with check_sig: a tenant secret verified the signature
    char *result_json;        // SESSION / HISTORY / STATUS: owned by the item after done (caller frees)
    char error[160];          // why, for FAILED / UNAVAILABLE
    ingress_item_done_fn *done;
    void *done_arg;
    ingress_item_t *next_;    // private: queue link
    ingress_item_t *dup_of_;  // private: same provider id earlier in the batch
    void *queue_;             // private: the writer queue it was taken from
    // private: a signed generic webhook without message.id is keyed by its webhook-id (owned, freed before done;
    // row_json and provider_id point at them meanwhile, and sig_orig_row_ is the caller's row_json)
    char *sig_row_, *sig_id_;
    const char *sig_orig_row_;
};

typedef struct ingress_writer ingress_writer_t;

typedef struct {
    const char *database_url;
    const lull_cfg_list_t *schedulers;  // ZeroMQ endpoints, at most 64 (NULL or empty: no INBOUND); borrowed for
                                        // the writer's lifetime
    lull_schedmap_t *schedmap;  // when set (schedulers empty): INBOUND goes to the owner of the conversation's
                                // partition, one PUSH per distinct inbound endpoint; borrowed, outlives the writer
    int writers;             // writer threads, each with its own connection (batches commit in parallel)
    int spill;               // > 0: the threads after the first commit their own queues only for a while after
                             // this many items waited while a batch committed; until then the first commits every
                             // queue (ignored with one thread)
    int batch_max;           // items per transaction
    int64_t batch_wait_us;   // how long a non-full batch may wait for more under load
    int queue_max;           // items waiting before submit refuses
    int inbound_hwm;         // ZMQ_SNDHWM per push socket
    int history_limit;       // messages returned by HISTORY
    lull_metrics_t *metrics;
    const char *pool;        // NULL: the writers; "reader": a pool serving HISTORY only (its metrics labelled so)
} ingress_writer_cfg_t;

// Starts the writer thread (connects to the database in the background). NULL on failure.
ingress_writer_t *ingress_writer_new(const ingress_writer_cfg_t *cfg);
// Finishes every queued item and stops the thread; later submits are refused. NULL-safe.
void ingress_writer_stop(ingress_writer_t *self);
// Stops (as above) and frees; NULL-safe, nulls the pointer.
void ingress_writer_destroy(ingress_writer_t **self_p);
// Hands item to the writer (thread-safe). -1 when the queue is full or the writer stops (item untouched).
int ingress_writer_submit(ingress_writer_t *self, ingress_item_t *item) __attribute__((warn_unused_result));
// True when a submit now would be accepted (queue not full, not stopping). Thread-safe.
bool ingress_writer_has_room(ingress_writer_t *self);
// Name of an outcome for logs and metrics.
const char *ingress_outcome_name(ingress_outcome_t o);

#endif
