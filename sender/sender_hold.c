// In-memory retries: a binary min-heap of held deliveries by due time, one loop timer, and the batched start
// of the due ones' next attempts (sender_hold.h).
#include "sender_hold.h"
#include "lull_clock.h"
#include "lull_log.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define RESUME_MAX 1000  // deliveries resumed per statement

struct sender_hold {
    sender_held_t **v;
    size_t n, cap;
    // The batch taken out to start (sender_hold_take → sender_hold_started), by id, and its resume arguments.
    sender_held_t *batch[RESUME_MAX];
    int64_t ids[RESUME_MAX];
    long sts[RESUME_MAX];
    const char *errs[RESUME_MAX];
    int unw[RESUME_MAX];
    size_t ndue;
    lull_loop_t *loop;
    int timer;
    int64_t timer_due;
    void (*due)(void *arg);
    void *arg;
};

static void s_on_timer(lull_loop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sender_hold_t *self = arg;
    self->timer = 0;
    self->due(self->arg);
}

// Arms the timer for the earliest due time unless it is armed for that time or sooner.
static void s_arm(sender_hold_t *self)
{
    if (self->n == 0) return;
    int64_t due = self->v[0]->due_ms;
    if (self->timer && self->timer_due <= due) return;
    if (self->timer) lull_loop_cancel_timer(self->loop, self->timer);
    int64_t wait = due - lull_clock_mono_ms();
    int t = lull_loop_add_timer(self->loop, wait > 0 ? wait : 0, 0, s_on_timer, self);
    self->timer = t > 0 ? t : 0;
    self->timer_due = due;
}

sender_hold_t *sender_hold_new(lull_loop_t *loop, size_t cap, void (*due)(void *arg), void *arg)
{
    sender_hold_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->cap = cap ? cap : 1;
    self->v = calloc(self->cap, sizeof *self->v);
    if (!self->v) {
        free(self);
        return NULL;
    }
    self->loop = loop;
    self->due = due;
    self->arg = arg;
    return self;
}

void sender_hold_destroy(sender_hold_t **self_p)
{
    if (!self_p || !*self_p) return;
    sender_hold_t *self = *self_p;
    if (self->timer) lull_loop_cancel_timer(self->loop, self->timer);
    free(self->v);
    free(self);
    *self_p = NULL;
}

static void s_push(sender_hold_t *self, sender_held_t *h)
{
    size_t i = self->n++;
    while (i > 0 && self->v[(i - 1) / 2]->due_ms > h->due_ms) {
        self->v[i] = self->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    self->v[i] = h;
}

int sender_hold_push(sender_hold_t *self, sender_held_t *h)
{
    if (self->n == self->cap) return -1;
    s_push(self, h);
    s_arm(self);
    return 0;
}

size_t sender_hold_count(const sender_hold_t *self) { return self->n; }

static sender_held_t *s_pop(sender_hold_t *self)
{
    if (self->n == 0) return NULL;
    sender_held_t *top = self->v[0], *last = self->v[--self->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= self->n) break;
        if (c + 1 < self->n && self->v[c + 1]->due_ms < self->v[c]->due_ms) c++;
        if (self->v[c]->due_ms >= last->due_ms) break;
        self->v[i] = self->v[c];
        i = c;
    }
    if (self->n) self->v[i] = last;
    return top;
}

// Out of the heap for good: its request released, back to the queue after delay_ms when requeue, job freed.
static void s_release(sender_held_t *h, sender_results_t *results, bool requeue, int64_t delay_ms)
{
    lull_http_drop(h->client, h->kept);
    if (requeue && sender_results_add_n(results, h->id, SENDER_REC_RETRY, delay_ms, h->fail_status,
                                        h->fail_error[0] ? h->fail_error : NULL, NULL, h->unwritten) != 0)
        LOG_ERROR("sender.oom", "cannot queue a result; the lease will expire", "outbox", LI(h->id));
    free(h->job);
}

size_t sender_hold_hand_back(sender_hold_t *self, sender_results_t *results, int64_t now_ms)
{
    size_t n = 0;
    sender_held_t *h;
    while ((h = s_pop(self))) {
        s_release(h, results, true, h->due_ms - now_ms);
        n++;
    }
    return n;
}

static int s_by_id(const void *a, const void *b)
{
    int64_t x = (*(sender_held_t *const *)a)->id, y = (*(sender_held_t *const *)b)->id;
    return x < y ? -1 : x > y;
}

size_t sender_hold_take(sender_hold_t *self, int64_t now_ms, int64_t margin_ms, size_t max, sender_results_t *results,
                        sender_resume_t *in)
{
    size_t taken = 0;
    *in = (sender_resume_t){.ids = self->ids, .statuses = self->sts, .errors = self->errs, .unwritten = self->unw, .n = 0};
    if (self->ndue) {  // a batch taken is started before the next is taken: never overwrite one not started yet
        LOG_ERROR("sender.hold_busy", "a resume batch was taken before the last one started", "due", LI((int64_t)self->ndue));
        return 0;
    }
    if (max == 0) return 0;  // no room: a completion brings the caller back
    if (max > RESUME_MAX) max = RESUME_MAX;
    while (taken < max && self->n && self->v[0]->due_ms <= now_ms) {
        sender_held_t *h = s_pop(self);
        taken++;
        if (h->lease_end_ms - now_ms <= margin_ms) s_release(h, results, true, 0);
        else self->batch[self->ndue++] = h;
    }
    qsort(self->batch, self->ndue, sizeof *self->batch, s_by_id);
    for (size_t i = 0; i < self->ndue; i++) {
        self->ids[i] = self->batch[i]->id;
        self->sts[i] = self->batch[i]->fail_status;
        self->errs[i] = self->batch[i]->fail_error[0] ? self->batch[i]->fail_error : NULL;
        self->unw[i] = self->batch[i]->unwritten;
    }
    in->n = self->ndue;
    if (self->ndue == 0) s_arm(self);
    return taken;
}

void sender_hold_started(sender_hold_t *self, const PGresult *res, int64_t now_ms, int64_t retry_ms,
                         sender_results_t *results, lull_counter_t *lease_lost, sender_resume_fn *fn, void *arg)
{
    size_t n = self->ndue;
    self->ndue = 0;  // fn may hold a delivery again: the batch is over from here on
    if (!res) {
        for (size_t i = 0; i < n; i++) {
            self->batch[i]->due_ms = now_ms + retry_ms;
            s_push(self, self->batch[i]);
        }
        s_arm(self);
        return;
    }
    int rows = PQntuples(res), r = 0;
    for (size_t i = 0; i < n; i++) {  // both by id: a row missing from the result lost its lease
        sender_held_t *h = self->batch[i];
        int64_t id = r < rows ? lull_db_int(res, r, 0, NULL) : -1;
        if (id != h->id) {
            if (lease_lost) lull_counter_add(lease_lost, 1);
            LOG_WARN("sender.lease_lost", "in-memory retry dropped: the row's lease was taken over", "outbox", LI(h->id));
            s_release(h, results, false, 0);
            continue;
        }
        const char *c = lull_db_text(res, r, 1);
        int attempts = (int)lull_db_int(res, r, 2, NULL);
        if (c && strcmp(c, "t") == 0) {
            LOG_INFO("outbox.cancelled", "a person answered the conversation: the bot reply is not sent", "outbox",
                     LI(id), "conv", LI(lull_db_int(res, r, 3, NULL)), "reason", LS("superseded_by_person"));
            s_release(h, results, false, 0);
        } else {
            fn(h, attempts, arg);
        }
        r++;
    }
    s_arm(self);
}
