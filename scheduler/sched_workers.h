// The workers and the jobs they hold, on the scheduler's ROUTER: READY (credit), JOB, DONE, HEARTBEAT, a lost
// worker's jobs put back, provider back-pressure, and the dispatch of due windows by credit (round-robin),
// each batch checked against the database first. Dry-run traffic (CTL_REP, a lost worker) is told to a relay.
#ifndef SCHED_WORKERS_H
#define SCHED_WORKERS_H

#include <czmq.h>
#include <stdint.h>

#include "lull_proc.h"
#include "lull_proto.h"
#include "sched_config.h"
#include "sched_windows.h"

#define SCHED_MAX_IDENTITY 255  // bytes of a ROUTER routing id

typedef struct sched_workers sched_workers_t;

// A peer's ROUTER routing id (plain data).
typedef struct {
    uint8_t id[SCHED_MAX_IDENTITY];
    size_t len;
} sched_worker_id_t;

// Told a worker's CTL_REP (m), or that the worker was lost (m NULL); everything borrowed for the call.
typedef void(sched_workers_relay_fn)(void *arg, const sched_worker_id_t *worker, const char *name,
                                     const lull_msg_t *m);

// Creates the worker table (LULL_SCHED_MAX_WORKERS) and its metrics. cfg, proc, win and router are borrowed
// for its life. NULL on allocation failure.
sched_workers_t *sched_workers_new(const sched_cfg_t *cfg, lull_proc_t *proc, sched_windows_t *win,
                                   zsock_t *router);
// Frees the table (jobs in flight are left to their workers); NULL-safe, nulls the pointer.
void sched_workers_destroy(sched_workers_t **self_p);
// Sets who is told about dry-run answers and lost workers (fn may be NULL).
void sched_workers_set_relay(sched_workers_t *self, sched_workers_relay_fn *fn, void *arg);

// Told whether this scheduler may dispatch a conversation now (lease mode: its partition is owned); conv's
// epoch in *epoch (0 when not known).
typedef bool(sched_workers_owns_fn)(void *arg, int64_t conversation_id, int64_t *epoch);
// Sets who decides which conversations may be dispatched (fn NULL: all of them). A due window of a
// conversation not owned is dropped at dispatch.
void sched_workers_set_owner(sched_workers_t *self, sched_workers_owns_fn *fn, void *arg);

// Handles one message received on the ROUTER (borrowed): READY, DONE, HEARTBEAT, CTL_REP.
void sched_workers_handle(sched_workers_t *self, zmsg_t *z);
// Sends due conversations to workers while there is credit, checking them against the database in batches.
void sched_workers_dispatch(sched_workers_t *self);
// Milliseconds until dispatch may go on for windows waiting in the ready queue (the database pause after an
// error, or a back-pressure end of a worker with credit); -1 when neither applies.
int64_t sched_workers_wait_ms(const sched_workers_t *self);
// Heartbeat tick: declares workers silent for the liveness lost and sends HEARTBEAT to the quiet ones.
void sched_workers_heartbeat(sched_workers_t *self);
// Sends a dry run's CTL_REQ (m) to the next worker with free credit, else the next one in turn (a dry run
// takes no credit). 0 with *to and *name (borrowed until the next call) set; -1 when no worker is connected
// or it is unreachable.
int sched_workers_send_try(sched_workers_t *self, const lull_msg_t *m, sched_worker_id_t *to, const char **name)
    __attribute__((warn_unused_result));

// Workers connected.
int sched_workers_count(const sched_workers_t *self);
// Free credit of all workers.
int64_t sched_workers_credit(const sched_workers_t *self);
// Jobs sent and not done.
size_t sched_workers_in_flight(const sched_workers_t *self);

#endif
