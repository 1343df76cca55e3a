// Unit tests of the scheduler's window store with a fake monotonic clock: window rules (reset, max-wait
// cap, duplicates, in-flight serialisation, retry, cancel, flush, fairness) and the timing wheel (many
// windows with random resets all fire at their exact deadline, in deadline order).
#include "lull_test.h"
#include "lull_clock.h"
#include "../../scheduler/sched_windows.h"

#include <stdlib.h>
#include <string.h>

static int64_t s_now_us;
static int64_t s_fake(void) { return s_now_us; }
static void s_set_ms(int64_t ms) { s_now_us = ms * 1000; }
static int64_t s_ms(void) { return s_now_us / 1000; }

typedef struct {
    int64_t conv[64];
    int64_t late[64];
    int n;
} s_fired_t;

static void s_on_fire(void *arg, const sched_window_info_t *info, int64_t now)
{
    s_fired_t *f = arg;
    if (f->n < 64) {
        f->conv[f->n] = info->conversation_id;
        f->late[f->n] = now - info->deadline_ms;
        f->n++;
    }
}

static sched_windows_t *s_fresh(int64_t start_ms)
{
    lull_clock_set_source(s_fake);
    s_set_ms(start_ms);
    return sched_windows_new();
}

// Advances the fake clock 1 ms at a time up to ms, expiring at each step (like a punctual loop).
static void s_run_to(sched_windows_t *w, int64_t ms, s_fired_t *f)
{
    while (s_ms() < ms) {
        s_set_ms(s_ms() + 1);
        sched_windows_expire(w, s_on_fire, f);
    }
}

LULL_TEST(reset_moves_the_deadline)
{
    sched_windows_t *w = s_fresh(1000);
    s_fired_t f = {0};
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 7, 1, LULL_CH_SMS, 100, 50, 1000), SCHED_IN_OPENED);
    s_run_to(w, 1040, &f);
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 7, 1, LULL_CH_SMS, 101, 50, 1000), SCHED_IN_RESET);
    sched_window_info_t info;
    LULL_CHECK(sched_windows_get(w, 7, &info));
    LULL_CHECK_EQ_INT(info.deadline_ms, 1090);
    LULL_CHECK_EQ_INT(info.messages, 2);
    LULL_CHECK_EQ_INT(info.upto, 101);
    LULL_CHECK_EQ_STR(sched_wstate_name(info.state, info.in_flight), "waiting");
    s_run_to(w, 1089, &f);
    LULL_CHECK_EQ_INT(f.n, 0);
    s_run_to(w, 1090, &f);
    LULL_CHECK_EQ_INT(f.n, 1);
    LULL_CHECK_EQ_INT(f.late[0], 0);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 1);
    sched_window_info_t got;
    LULL_CHECK(sched_windows_pop_ready(w, &got));
    LULL_CHECK_EQ_INT(got.conversation_id, 7);
    LULL_CHECK_EQ_INT(got.upto, 101);
    LULL_CHECK_EQ_INT(got.attempt, 1);
    sched_windows_destroy(&w);
    LULL_CHECK(w == NULL);
    lull_clock_set_source(NULL);
}

LULL_TEST(max_wait_caps_a_chatty_burst)
{
    sched_windows_t *w = s_fresh(0);
    s_fired_t f = {0};
    int64_t id = 1;
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 9, 1, LULL_CH_GENERIC, id++, 100, 250), SCHED_IN_OPENED);
    // a message every 60 ms keeps pushing the 100 ms window, but the cap at 250 ms wins
    for (int t = 60; t < 250; t += 60) {
        s_run_to(w, t, &f);
        LULL_CHECK_EQ_INT(sched_windows_inbound(w, 9, 1, LULL_CH_GENERIC, id++, 100, 250), SCHED_IN_RESET);
    }
    sched_window_info_t info;
    LULL_CHECK(sched_windows_get(w, 9, &info));
    LULL_CHECK_EQ_INT(info.deadline_ms, 250);
    LULL_CHECK_EQ_INT(info.cap_ms, 250);
    s_run_to(w, 249, &f);
    LULL_CHECK_EQ_INT(f.n, 0);
    s_run_to(w, 250, &f);
    LULL_CHECK_EQ_INT(f.n, 1);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(duplicates_and_old_ids_do_not_extend)
{
    sched_windows_t *w = s_fresh(0);
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 3, 1, 0, 50, 100, 1000), SCHED_IN_OPENED);
    s_set_ms(80);
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 3, 1, 0, 50, 100, 1000), SCHED_IN_IGNORED);
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 3, 1, 0, 49, 100, 1000), SCHED_IN_IGNORED);
    sched_window_info_t info;
    LULL_CHECK(sched_windows_get(w, 3, &info));
    LULL_CHECK_EQ_INT(info.deadline_ms, 100);
    LULL_CHECK_EQ_INT(info.messages, 1);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(per_tenant_lengths_are_the_callers)
{
    // the store applies whatever window/max-wait it is given per message (the tenant cache picks them)
    sched_windows_t *w = s_fresh(0);
    s_fired_t f = {0};
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 1, 10, LULL_CH_SMS, 1, 300, 1000), SCHED_IN_OPENED);
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 2, 20, LULL_CH_TIKTOK, 2, 50, 1000), SCHED_IN_OPENED);
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 3, 20, LULL_CH_SMS, 3, 120, 100), SCHED_IN_OPENED);
    s_run_to(w, 400, &f);
    LULL_CHECK_EQ_INT(f.n, 3);
    LULL_CHECK_EQ_INT(f.conv[0], 2);
    LULL_CHECK_EQ_INT(f.conv[1], 3);  // capped at 100 by its max wait
    LULL_CHECK_EQ_INT(f.conv[2], 1);
    for (int i = 0; i < 3; i++) LULL_CHECK_EQ_INT(f.late[i], 0);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(in_flight_serialises_the_next_window)
{
    sched_windows_t *w = s_fresh(0);
    s_fired_t f = {0};
    sched_window_info_t info;
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 5, 1, 0, 10, 50, 500), SCHED_IN_OPENED);
    s_run_to(w, 50, &f);
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    LULL_CHECK_EQ_INT(sched_windows_start_job(w, 5, 10), 0);
    // a message during the job opens the next window; it becomes due but waits for DONE
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 5, 1, 0, 11, 50, 500), SCHED_IN_OPENED);
    s_run_to(w, 120, &f);
    LULL_CHECK_EQ_INT(f.n, 2);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 0);
    LULL_CHECK(sched_windows_get(w, 5, &info));
    LULL_CHECK(info.in_flight);
    LULL_CHECK_EQ_INT(info.state, SCHED_WS_DUE);
    LULL_CHECK_EQ_INT(sched_windows_job_done(w, 5, -1, 1), 0);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 1);
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    LULL_CHECK_EQ_INT(info.upto, 11);
    LULL_CHECK_EQ_INT(sched_windows_start_job(w, 5, 11), 0);
    // nothing pending: DONE removes the entry
    LULL_CHECK_EQ_INT(sched_windows_job_done(w, 5, -1, 1), 1);
    LULL_CHECK(!sched_windows_get(w, 5, NULL));
    LULL_CHECK_EQ_INT(sched_windows_count(w), 0);
    LULL_CHECK_EQ_INT(sched_windows_job_done(w, 5, -1, 1), -1);  // unknown: harmless
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(retry_and_lost_job_raise_the_attempt)
{
    sched_windows_t *w = s_fresh(0);
    s_fired_t f = {0};
    sched_window_info_t info;
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 8, 1, 0, 1, 10, 100), SCHED_IN_OPENED);
    s_run_to(w, 10, &f);
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    LULL_CHECK_EQ_INT(sched_windows_start_job(w, 8, 1), 0);
    LULL_CHECK_EQ_INT(sched_windows_job_done(w, 8, 30, 1), 0);  // retryable, 30 ms
    LULL_CHECK(sched_windows_get(w, 8, &info));
    LULL_CHECK_EQ_STR(sched_wstate_name(info.state, info.in_flight), "backoff");
    s_run_to(w, 39, &f);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 0);
    s_run_to(w, 40, &f);
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    LULL_CHECK_EQ_INT(info.attempt, 2);
    LULL_CHECK_EQ_INT(sched_windows_start_job(w, 8, 1), 0);
    LULL_CHECK_EQ_INT(sched_windows_job_lost(w, 8, 2), 0);
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    LULL_CHECK_EQ_INT(info.attempt, 3);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(pause_defers_until_later)
{
    sched_windows_t *w = s_fresh(0);
    s_fired_t f = {0};
    sched_window_info_t info;
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 4, 1, 0, 1, 10, 100), SCHED_IN_OPENED);
    s_run_to(w, 10, &f);
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    // the conversation row says paused until 500: re-arm there
    LULL_CHECK_EQ_INT(sched_windows_defer(w, 4, 500), 0);
    s_run_to(w, 499, &f);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 0);
    s_run_to(w, 500, &f);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 1);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(cancel_and_flush)
{
    sched_windows_t *w = s_fresh(0);
    int64_t upto = 0;
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 1, 1, 0, 11, 1000, 5000), SCHED_IN_OPENED);
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 1, 1, 0, 12, 1000, 5000), SCHED_IN_RESET);
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 2, 1, 0, 21, 1000, 5000), SCHED_IN_OPENED);
    LULL_CHECK_EQ_INT(sched_windows_cancel(w, 1, &upto), 0);
    LULL_CHECK_EQ_INT(upto, 12);
    LULL_CHECK(!sched_windows_get(w, 1, NULL));
    LULL_CHECK_EQ_INT(sched_windows_cancel(w, 1, &upto), -1);
    LULL_CHECK_EQ_INT(sched_windows_flush(w, 99), -1);
    LULL_CHECK_EQ_INT(sched_windows_flush(w, 2), 0);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 1);
    sched_window_info_t info;
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    LULL_CHECK_EQ_INT(info.conversation_id, 2);
    // in flight with no next window: nothing to cancel or flush
    LULL_CHECK_EQ_INT(sched_windows_start_job(w, 2, 21), 0);
    LULL_CHECK_EQ_INT(sched_windows_cancel(w, 2, &upto), -1);
    LULL_CHECK_EQ_INT(sched_windows_flush(w, 2), -1);
    // a next window while in flight can be cancelled; the entry stays for the running job
    LULL_CHECK_EQ_INT(sched_windows_inbound(w, 2, 1, 0, 22, 1000, 5000), SCHED_IN_OPENED);
    LULL_CHECK_EQ_INT(sched_windows_cancel(w, 2, &upto), 0);
    LULL_CHECK_EQ_INT(upto, 22);
    LULL_CHECK_EQ_INT(sched_windows_job_done(w, 2, -1, 1), 1);
    LULL_CHECK_EQ_INT(sched_windows_count(w), 0);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(ready_queue_is_fair_across_tenants)
{
    sched_windows_t *w = s_fresh(0);
    // tenant 1 has 5 due conversations, tenant 2 has 2, tenant 3 has 1
    int64_t conv = 100;
    for (int i = 0; i < 5; i++) LULL_CHECK_EQ_INT(sched_windows_restore(w, conv++, 1, 0, 1, 0, 0), 1);
    for (int i = 0; i < 2; i++) LULL_CHECK_EQ_INT(sched_windows_restore(w, conv++, 2, 0, 1, 0, 0), 1);
    LULL_CHECK_EQ_INT(sched_windows_restore(w, conv++, 3, 0, 1, 0, 0), 1);
    LULL_CHECK_EQ_INT(sched_windows_restore(w, 100, 1, 0, 1, 0, 0), 0);  // already known
    int64_t order[8];
    sched_window_info_t info;
    for (int i = 0; i < 8; i++) {
        LULL_CHECK(sched_windows_pop_ready(w, &info));
        order[i] = info.tenant_id;
    }
    LULL_CHECK(!sched_windows_pop_ready(w, &info));
    int64_t want[8] = {1, 2, 3, 1, 2, 1, 1, 1};
    for (int i = 0; i < 8; i++) LULL_CHECK_EQ_INT(order[i], want[i]);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(requeue_goes_back_to_the_front)
{
    sched_windows_t *w = s_fresh(0);
    for (int64_t c = 1; c <= 3; c++) LULL_CHECK_EQ_INT(sched_windows_restore(w, c, 1, 0, 1, 0, 0), 1);
    sched_window_info_t info;
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    LULL_CHECK_EQ_INT(info.conversation_id, 1);
    LULL_CHECK_EQ_INT(sched_windows_requeue(w, 1), 0);  // e.g. the database was down
    LULL_CHECK(sched_windows_pop_ready(w, &info));
    LULL_CHECK_EQ_INT(info.conversation_id, 1);
    LULL_CHECK_EQ_INT(sched_windows_drop(w, 1), 0);
    LULL_CHECK_EQ_INT(sched_windows_requeue(w, 1), -1);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 2);
    // flush of a ready window is accepted and changes nothing
    LULL_CHECK_EQ_INT(sched_windows_flush(w, 2), 0);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), 2);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

static bool s_count_each(void *arg, const sched_window_info_t *info)
{
    (void)info;
    (*(int *)arg)++;
    return true;
}

typedef struct {
    int64_t last_deadline;
    int64_t count, late, out_of_order;
    int64_t *deadline_of;  // by conversation id
} s_order_t;

static void s_check_order(void *arg, const sched_window_info_t *info, int64_t now)
{
    s_order_t *o = arg;
    if (info->deadline_ms < o->last_deadline) o->out_of_order++;
    if (now != info->deadline_ms || o->deadline_of[info->conversation_id] != info->deadline_ms) o->late++;
    o->last_deadline = info->deadline_ms;
    o->count++;
}

LULL_TEST(wheel_fires_many_windows_exactly_in_order)
{
    enum { N = 20000 };
    sched_windows_t *w = s_fresh(5000);
    int64_t *deadline_of = calloc(N + 1, sizeof *deadline_of);
    int64_t *msg = calloc(N + 1, sizeof *msg);
    LULL_CHECK(deadline_of && msg);
    if (!deadline_of || !msg) return;
    srand(42);
    // windows from 1 ms to 400 s (beyond one wheel revolution), with random resets as time advances
    for (int64_t c = 1; c <= N; c++) {
        int64_t win = 1 + rand() % (c % 10 == 0 ? 400000 : 3000);
        msg[c] = 1;
        LULL_CHECK_EQ_INT(sched_windows_inbound(w, c, c % 7, 0, msg[c], win, 1000000), SCHED_IN_OPENED);
        deadline_of[c] = s_ms() + win;
    }
    int each = 0;
    sched_windows_each(w, s_count_each, &each);
    LULL_CHECK_EQ_INT(each, N);
    s_order_t o = {.deadline_of = deadline_of};
    for (int step = 0; step < 2000; step++) {
        s_set_ms(s_ms() + 1);
        sched_windows_expire(w, s_check_order, &o);
        o.last_deadline = 0;  // order is checked within one expire call; across calls time orders them
        for (int k = 0; k < 5; k++) {
            int64_t c = 1 + rand() % N;
            sched_window_info_t info;
            if (!sched_windows_get(w, c, &info) || info.state != SCHED_WS_WAITING) continue;
            int64_t win = 1 + rand() % 3000;
            LULL_CHECK_EQ_INT(sched_windows_inbound(w, c, c % 7, 0, ++msg[c], win, 1000000), SCHED_IN_RESET);
            deadline_of[c] = s_ms() + win;
        }
    }
    // jump: a stalled loop catches up in one call (several revolutions' worth) and nothing is skipped
    s_set_ms(s_ms() + 100000);
    LULL_CHECK_EQ_INT(o.late, 0);  // every window so far fired at exactly its deadline
    sched_windows_expire(w, s_check_order, &o);
    for (int step = 0; step < 400; step++) {
        s_set_ms(s_ms() + 1000);
        sched_windows_expire(w, s_check_order, &o);
    }
    LULL_CHECK_EQ_INT(o.count, N);
    LULL_CHECK_EQ_INT(o.out_of_order, 0);
    LULL_CHECK_EQ_INT(sched_windows_ready_count(w), N);
    LULL_CHECK_EQ_INT(sched_windows_next_ms(w), -1);
    free(deadline_of);
    free(msg);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(wheel_exact_when_punctual)
{
    enum { N = 5000 };
    sched_windows_t *w = s_fresh(77);
    int64_t *deadline_of = calloc(N + 1, sizeof *deadline_of);
    LULL_CHECK(deadline_of != NULL);
    if (!deadline_of) return;
    srand(7);
    for (int64_t c = 1; c <= N; c++) {
        int64_t win = 1 + rand() % 300000;
        LULL_CHECK_EQ_INT(sched_windows_inbound(w, c, 1, 0, 1, win, 1000000), SCHED_IN_OPENED);
        deadline_of[c] = s_ms() + win;
    }
    s_order_t o = {.deadline_of = deadline_of};
    // jump straight to each next deadline as the loop would (next_ms), never sleeping past one
    int64_t guard = 0;
    while (sched_windows_next_ms(w) >= 0 && guard++ < 10 * N) {
        int64_t d = sched_windows_next_ms(w);
        s_set_ms(s_ms() + (d > 0 ? d : 1));
        sched_windows_expire(w, s_check_order, &o);
        o.last_deadline = 0;
    }
    LULL_CHECK_EQ_INT(o.count, N);
    LULL_CHECK_EQ_INT(o.late, 0);
    free(deadline_of);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

LULL_TEST(drop_and_reuse_keep_the_index_consistent)
{
    enum { N = 50000 };
    sched_windows_t *w = s_fresh(0);
    for (int64_t c = 1; c <= N; c++) LULL_CHECK_EQ_INT(sched_windows_inbound(w, c, 1, 0, 1, 1000, 2000), 1);
    for (int64_t c = 1; c <= N; c += 2) LULL_CHECK_EQ_INT(sched_windows_drop(w, c), 0);
    LULL_CHECK_EQ_INT(sched_windows_count(w), N / 2);
    int missing = 0, present = 0;
    for (int64_t c = 1; c <= N; c++) {
        bool g = sched_windows_get(w, c, NULL);
        if (c % 2 == 1 && g) present++;
        if (c % 2 == 0 && !g) missing++;
    }
    LULL_CHECK_EQ_INT(present, 0);
    LULL_CHECK_EQ_INT(missing, 0);
    for (int64_t c = N + 1; c <= N + N / 2; c++) LULL_CHECK_EQ_INT(sched_windows_inbound(w, c, 2, 0, 1, 5, 5), 1);
    LULL_CHECK_EQ_INT(sched_windows_count(w), N);
    LULL_CHECK(sched_windows_bytes(w) > 0);
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

// ---- random operations against a small reference model (states, deadlines, counts, the index)

enum { M_N = 300 };
typedef struct {
    bool present, job;
    sched_wstate_t st;
    int64_t deadline, cap, upto;
    int64_t tenant;
} s_model_t;

static s_model_t s_m[M_N + 1];
static int s_model_fired;

static void s_model_fire(void *arg, const sched_window_info_t *info, int64_t now)
{
    (void)arg;
    s_model_t *m = &s_m[info->conversation_id];
    if (!m->present || (m->st != SCHED_WS_WAITING && m->st != SCHED_WS_BACKOFF) || m->deadline > now ||
        info->deadline_ms != m->deadline)
        s_model_fired = -1000000;  // fired something the model did not expect
    else
        s_model_fired++;
    m->st = m->job ? SCHED_WS_DUE : SCHED_WS_READY;
}

static bool s_model_agrees(sched_windows_t *w)
{
    size_t present = 0, ready = 0;
    for (int c = 1; c <= M_N; c++) {
        sched_window_info_t info;
        bool got = sched_windows_get(w, c, &info);
        if (got != s_m[c].present) return false;
        if (!got) continue;
        present++;
        if (s_m[c].st == SCHED_WS_READY) ready++;
        if (info.state != s_m[c].st || info.in_flight != s_m[c].job || info.upto != s_m[c].upto ||
            info.tenant_id != s_m[c].tenant)
            return false;
        if ((info.state == SCHED_WS_WAITING || info.state == SCHED_WS_BACKOFF) && info.deadline_ms != s_m[c].deadline)
            return false;
    }
    return present == sched_windows_count(w) && ready == sched_windows_ready_count(w);
}

LULL_TEST(random_operations_match_a_model)
{
    sched_windows_t *w = s_fresh(1000);
    memset(s_m, 0, sizeof s_m);
    srand(2026);
    int64_t msg = 1;
    bool ok = true;
    for (int step = 0; step < 200000 && ok; step++) {
        int64_t c = 1 + rand() % M_N;
        s_model_t *m = &s_m[c];
        int op = rand() % 100;
        int64_t now = s_ms();
        if (op < 40) {  // inbound
            int64_t win = 1 + rand() % 200, mw = rand() % 400;
            if (!m->present) m->tenant = c % 5;
            sched_inbound_t r = sched_windows_inbound(w, c, m->tenant, 0, msg, win, mw);
            if (!m->present || m->st == SCHED_WS_NONE) {
                ok = r == SCHED_IN_OPENED;
                m->present = true;
                m->cap = now + mw;
                m->deadline = now + win < m->cap ? now + win : m->cap;
                m->st = m->deadline <= now ? (m->job ? SCHED_WS_DUE : SCHED_WS_READY) : SCHED_WS_WAITING;
            } else {
                ok = r == SCHED_IN_RESET;
                if (m->st == SCHED_WS_WAITING) {
                    int64_t d = now + win < m->cap ? now + win : m->cap;
                    m->deadline = d;
                    if (d <= now) m->st = m->job ? SCHED_WS_DUE : SCHED_WS_READY;
                }
            }
            m->upto = msg++;
        } else if (op < 55) {  // time passes
            s_model_fired = 0;
            int expect = 0;
            s_set_ms(now + rand() % 50);
            for (int k = 1; k <= M_N; k++)
                if (s_m[k].present && (s_m[k].st == SCHED_WS_WAITING || s_m[k].st == SCHED_WS_BACKOFF) &&
                    s_m[k].deadline <= s_ms())
                    expect++;
            sched_windows_expire(w, s_model_fire, NULL);
            ok = s_model_fired == expect;
        } else if (op < 70) {  // a worker takes the next due conversation
            sched_window_info_t info;
            bool got = sched_windows_pop_ready(w, &info);
            if (got) {
                s_model_t *p = &s_m[info.conversation_id];
                ok = p->st == SCHED_WS_READY && !p->job;
                p->st = SCHED_WS_NONE;
                if (rand() % 10 == 0) {
                    ok = ok && sched_windows_drop(w, info.conversation_id) == 0;
                    p->present = false;
                } else {
                    ok = ok && sched_windows_start_job(w, info.conversation_id, p->upto) == 0;
                    p->job = true;
                }
            }
        } else if (op < 85) {  // DONE (sometimes retryable)
            int rc = sched_windows_job_done(w, c, op < 75 ? 10 + rand() % 100 : -1, 1);
            if (!m->present || !m->job) {
                ok = rc == -1;
            } else {
                m->job = false;
                if (op < 75 && m->st == SCHED_WS_NONE) {
                    m->st = SCHED_WS_BACKOFF;
                    sched_window_info_t info;
                    ok = sched_windows_get(w, c, &info) && rc == 0;
                    m->deadline = info.deadline_ms;
                } else if (m->st == SCHED_WS_NONE) {
                    ok = rc == 1;
                    m->present = false;
                } else {
                    ok = rc == 0;
                    if (m->st == SCHED_WS_DUE) m->st = SCHED_WS_READY;
                }
            }
        } else if (op < 90) {  // worker lost
            int rc = sched_windows_job_lost(w, c, 1);
            ok = rc == ((m->present && m->job) ? 0 : -1);
            if (rc == 0) {
                m->job = false;
                m->st = SCHED_WS_READY;
            }
        } else if (op < 95) {  // flush
            int rc = sched_windows_flush(w, c);
            ok = rc == ((m->present && m->st != SCHED_WS_NONE) ? 0 : -1);
            if (rc == 0 && (m->st == SCHED_WS_WAITING || m->st == SCHED_WS_BACKOFF))
                m->st = m->job ? SCHED_WS_DUE : SCHED_WS_READY;
        } else {  // cancel
            int64_t upto = 0;
            int rc = sched_windows_cancel(w, c, &upto);
            ok = rc == ((m->present && m->st != SCHED_WS_NONE) ? 0 : -1);
            if (rc == 0) {
                ok = upto == m->upto;
                m->st = SCHED_WS_NONE;
                if (!m->job) m->present = false;
            }
        }
        if (ok && step % 97 == 0) ok = s_model_agrees(w);
        if (!ok) printf("# model disagrees at step %d (op %d, conversation %lld)\n", step, op, (long long)c);
    }
    LULL_CHECK(ok);
    LULL_CHECK(s_model_agrees(w));
    sched_windows_destroy(&w);
    lull_clock_set_source(NULL);
}

int main(void)
{
    LULL_RUN(reset_moves_the_deadline);
    LULL_RUN(max_wait_caps_a_chatty_burst);
    LULL_RUN(duplicates_and_old_ids_do_not_extend);
    LULL_RUN(per_tenant_lengths_are_the_callers);
    LULL_RUN(in_flight_serialises_the_next_window);
    LULL_RUN(retry_and_lost_job_raise_the_attempt);
    LULL_RUN(pause_defers_until_later);
    LULL_RUN(cancel_and_flush);
    LULL_RUN(ready_queue_is_fair_across_tenants);
    LULL_RUN(requeue_goes_back_to_the_front);
    LULL_RUN(wheel_fires_many_windows_exactly_in_order);
    LULL_RUN(wheel_exact_when_punctual);
    LULL_RUN(drop_and_reuse_keep_the_index_consistent);
    LULL_RUN(random_operations_match_a_model);
    return lull_test_summary();
}
