// Window store: dense node pool + 32-bit linear-probing index + hashed timing wheel (1 ms slots, 2^18 slots
// ≈ 262 s per revolution; longer deadlines stay in their slot for later revolutions) + per-tenant
// intrusive ready lists served round-robin. A node is in at most one list at a time (a wheel slot or a
// ready list), so one pair of 32-bit links is enough.
#include "sched_windows.h"
#include "lull_clock.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
#define WHEEL_BITS 18
#define WHEEL_SLOTS (1u << WHEEL_BITS)
#define WHEEL_MASK (WHEEL_SLOTS - 1)
#define WHEEL_WORDS (WHEEL_SLOTS / 64)
#define MAX_NODES (UINT32_MAX - 2u)

// flags byte: bits 0-2 state, bit 3 job in flight, bits 4-6 channel, bit 7 live
#define F_STATE 0x07u
#define F_JOB 0x08u
#define F_CHAN_SHIFT 4
#define F_CHAN 0x70u
#define F_LIVE 0x80u
_Static_assert(LULL_CH_COUNT <= (F_CHAN >> F_CHAN_SHIFT) + 1, "a channel fits the flags byte's 3 channel bits");

typedef struct {
    int64_t conv;      // conversation id (key)
    int64_t upto;      // newest inbound message id known
    int64_t deadline;  // monotonic ms (wheel)
    int64_t cap;       // monotonic ms: first message of the burst + max wait
    uint32_t prev, next;  // wheel slot list or tenant ready list; next = free list when not live
    uint32_t tenant;   // index into tenants
    uint16_t msgs;     // messages in the pending burst
    uint8_t flags;
    uint8_t attempt;   // attempt of the next dispatch (saturates at 255)
} s_node_t;

typedef struct {
    int64_t id;
    uint32_t head, tail;     // ready list
    uint32_t count;
    uint32_t rr_prev, rr_next;  // ring of tenants with a non-empty ready list
    bool in_ring;
} s_tenant_t;

struct sched_windows {
    s_node_t *nodes;
    uint32_t nnodes, cap_nodes, free_head;
    size_t live;
    uint32_t *index;  // node index or NIL; linear probing, backward-shift deletion
    size_t index_cap;  // power of two
    uint32_t *wheel;   // slot heads
    uint64_t *bits;    // non-empty slots
    size_t in_wheel;
    int64_t cursor;    // last monotonic ms processed by expire
    s_tenant_t *tenants;
    uint32_t ntenants, cap_tenants;
    uint32_t *tindex;  // tenant index or NIL
    size_t tindex_cap;
    uint32_t rr_cur;   // next tenant to serve, NIL when no tenant has ready work
    size_t ready;
};

const char *sched_wstate_name(sched_wstate_t state, bool in_flight)
{
    switch (state) {
    case SCHED_WS_WAITING: return "waiting";
    case SCHED_WS_READY: return "ready";
    case SCHED_WS_BACKOFF: return "backoff";
    case SCHED_WS_DUE: return in_flight ? "in_flight" : "ready";
    default: return "in_flight";
    }
}

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline sched_wstate_t s_state(const s_node_t *n) { return (sched_wstate_t)(n->flags & F_STATE); }
static inline void s_set_state(s_node_t *n, sched_wstate_t st)
{
    n->flags = (uint8_t)((n->flags & ~F_STATE) | (unsigned)st);
}

sched_windows_t *sched_windows_new(void)
{
    sched_windows_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->free_head = NIL;
    self->rr_cur = NIL;
    self->index_cap = 1024;
    self->index = malloc(self->index_cap * sizeof *self->index);
    self->wheel = malloc(WHEEL_SLOTS * sizeof *self->wheel);
    self->bits = calloc(WHEEL_WORDS, sizeof *self->bits);
    self->tindex_cap = 64;
    self->tindex = malloc(self->tindex_cap * sizeof *self->tindex);
    if (!self->index || !self->wheel || !self->bits || !self->tindex) {
        sched_windows_destroy(&self);
        return NULL;
    }
    memset(self->index, 0xff, self->index_cap * sizeof *self->index);
    memset(self->wheel, 0xff, WHEEL_SLOTS * sizeof *self->wheel);
    memset(self->tindex, 0xff, self->tindex_cap * sizeof *self->tindex);
    self->cursor = lull_clock_mono_ms();
    return self;
}

void sched_windows_destroy(sched_windows_t **self_p)
{
    if (!self_p || !*self_p) return;
    sched_windows_t *self = *self_p;
    free(self->nodes);
    free(self->index);
    free(self->wheel);
    free(self->bits);
    free(self->tenants);
    free(self->tindex);
    free(self);
    *self_p = NULL;
}

// ---- index: conversation id → node

static uint32_t s_find(const sched_windows_t *self, int64_t conv)
{
    size_t mask = self->index_cap - 1;
    for (size_t i = s_mix((uint64_t)conv) & mask;; i = (i + 1) & mask) {
        uint32_t n = self->index[i];
        if (n == NIL) return NIL;
        if (self->nodes[n].conv == conv) return n;
    }
}

static void s_index_put(uint32_t *index, size_t cap, const s_node_t *nodes, uint32_t n)
{
    size_t mask = cap - 1;
    size_t i = s_mix((uint64_t)nodes[n].conv) & mask;
    while (index[i] != NIL) i = (i + 1) & mask;
    index[i] = n;
}

static int s_index_grow(sched_windows_t *self, size_t want)
{
    size_t cap = self->index_cap;
    while (want * 4 > cap * 3) cap *= 2;
    if (cap == self->index_cap) return 0;
    uint32_t *idx = malloc(cap * sizeof *idx);
    if (!idx) return -1;
    memset(idx, 0xff, cap * sizeof *idx);
    for (uint32_t n = 0; n < self->nnodes; n++)
        if (self->nodes[n].flags & F_LIVE) s_index_put(idx, cap, self->nodes, n);
    free(self->index);
    self->index = idx;
    self->index_cap = cap;
    return 0;
}

static void s_index_del(sched_windows_t *self, int64_t conv)
{
    size_t mask = self->index_cap - 1;
    size_t i = s_mix((uint64_t)conv) & mask;
    while (self->index[i] != NIL && self->nodes[self->index[i]].conv != conv) i = (i + 1) & mask;
    if (self->index[i] == NIL) return;
    // backward-shift deletion keeps probe chains intact without tombstones
    size_t j = i;
    for (;;) {
        self->index[i] = NIL;
        for (;;) {
            j = (j + 1) & mask;
            if (self->index[j] == NIL) return;
            size_t home = s_mix((uint64_t)self->nodes[self->index[j]].conv) & mask;
            // the entry at j may move to i when its home is not in the cyclic range (i, j]
            bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!in_range) break;
        }
        self->index[i] = self->index[j];
        i = j;
    }
}

int sched_windows_reserve(sched_windows_t *self, size_t n)
{
    if (n > MAX_NODES) return -1;
    if (n > self->cap_nodes) {
        s_node_t *p = realloc(self->nodes, n * sizeof *p);
        if (!p) return -1;
        self->nodes = p;
        self->cap_nodes = (uint32_t)n;
    }
    return s_index_grow(self, n);
}

static uint32_t s_alloc(sched_windows_t *self, int64_t conv)
{
    if (s_index_grow(self, self->live + 1) != 0) return NIL;
    uint32_t n;
    if (self->free_head != NIL) {
        n = self->free_head;
        self->free_head = self->nodes[n].next;
    } else {
        if (self->nnodes == self->cap_nodes) {
            size_t cap = self->cap_nodes ? (size_t)self->cap_nodes * 2 : 1024;
            if (cap > MAX_NODES) cap = MAX_NODES;
            if (cap <= self->cap_nodes) return NIL;
            s_node_t *p = realloc(self->nodes, cap * sizeof *p);
            if (!p) return NIL;
            self->nodes = p;
            self->cap_nodes = (uint32_t)cap;
        }
        n = self->nnodes++;
    }
    s_node_t *node = &self->nodes[n];
    memset(node, 0, sizeof *node);
    node->conv = conv;
    node->prev = node->next = NIL;
    node->flags = F_LIVE;
    node->attempt = 1;
    s_index_put(self->index, self->index_cap, self->nodes, n);
    self->live++;
    return n;
}

static void s_free(sched_windows_t *self, uint32_t n)
{
    s_index_del(self, self->nodes[n].conv);
    self->nodes[n].flags = 0;
    self->nodes[n].next = self->free_head;
    self->free_head = n;
    self->live--;
}

// ---- tenants and ready queues

static uint32_t s_tenant(sched_windows_t *self, int64_t id)
{
    size_t mask = self->tindex_cap - 1;
    size_t i = s_mix((uint64_t)id) & mask;
    for (; self->tindex[i] != NIL; i = (i + 1) & mask)
        if (self->tenants[self->tindex[i]].id == id) return self->tindex[i];
    if (self->ntenants == self->cap_tenants) {
        uint32_t cap = self->cap_tenants ? self->cap_tenants * 2 : 16;
        s_tenant_t *p = realloc(self->tenants, cap * sizeof *p);
        if (!p) return NIL;
        self->tenants = p;
        self->cap_tenants = cap;
    }
    if ((self->ntenants + 1) * 2 > self->tindex_cap) {
        size_t cap = self->tindex_cap * 2;
        uint32_t *idx = malloc(cap * sizeof *idx);
        if (!idx) return NIL;
        memset(idx, 0xff, cap * sizeof *idx);
        for (uint32_t t = 0; t < self->ntenants; t++) {
            size_t j = s_mix((uint64_t)self->tenants[t].id) & (cap - 1);
            while (idx[j] != NIL) j = (j + 1) & (cap - 1);
            idx[j] = t;
        }
        free(self->tindex);
        self->tindex = idx;
        self->tindex_cap = cap;
        mask = cap - 1;
        i = s_mix((uint64_t)id) & mask;
        while (self->tindex[i] != NIL) i = (i + 1) & mask;
    }
    uint32_t t = self->ntenants++;
    self->tenants[t] = (s_tenant_t){.id = id, .head = NIL, .tail = NIL, .rr_prev = NIL, .rr_next = NIL};
    self->tindex[i] = t;
    return t;
}

static void s_ring_add(sched_windows_t *self, uint32_t t)
{
    s_tenant_t *tn = &self->tenants[t];
    if (tn->in_ring) return;
    tn->in_ring = true;
    if (self->rr_cur == NIL) {
        tn->rr_prev = tn->rr_next = t;
        self->rr_cur = t;
        return;
    }
    // insert just before the current tenant: it is served last in this round
    uint32_t cur = self->rr_cur, prev = self->tenants[cur].rr_prev;
    tn->rr_next = cur;
    tn->rr_prev = prev;
    self->tenants[prev].rr_next = t;
    self->tenants[cur].rr_prev = t;
}

static void s_ring_del(sched_windows_t *self, uint32_t t)
{
    s_tenant_t *tn = &self->tenants[t];
    if (!tn->in_ring) return;
    tn->in_ring = false;
    if (tn->rr_next == t) {
        self->rr_cur = NIL;
        return;
    }
    self->tenants[tn->rr_prev].rr_next = tn->rr_next;
    self->tenants[tn->rr_next].rr_prev = tn->rr_prev;
    if (self->rr_cur == t) self->rr_cur = tn->rr_next;
}

static void s_ready_push(sched_windows_t *self, uint32_t n, bool front)
{
    s_node_t *node = &self->nodes[n];
    s_tenant_t *tn = &self->tenants[node->tenant];
    s_set_state(node, SCHED_WS_READY);
    if (front) {
        node->prev = NIL;
        node->next = tn->head;
        if (tn->head != NIL) self->nodes[tn->head].prev = n;
        else tn->tail = n;
        tn->head = n;
    } else {
        node->next = NIL;
        node->prev = tn->tail;
        if (tn->tail != NIL) self->nodes[tn->tail].next = n;
        else tn->head = n;
        tn->tail = n;
    }
    tn->count++;
    self->ready++;
    s_ring_add(self, node->tenant);
}

static void s_ready_unlink(sched_windows_t *self, uint32_t n)
{
    s_node_t *node = &self->nodes[n];
    s_tenant_t *tn = &self->tenants[node->tenant];
    if (node->prev != NIL) self->nodes[node->prev].next = node->next;
    else tn->head = node->next;
    if (node->next != NIL) self->nodes[node->next].prev = node->prev;
    else tn->tail = node->prev;
    node->prev = node->next = NIL;
    tn->count--;
    self->ready--;
    if (tn->count == 0) s_ring_del(self, node->tenant);
}

// ---- wheel

static void s_wheel_add(sched_windows_t *self, uint32_t n)
{
    s_node_t *node = &self->nodes[n];
    // a deadline the wheel has already passed fires on the next millisecond
    if (node->deadline <= self->cursor) node->deadline = self->cursor + 1;
    uint32_t slot = (uint32_t)((uint64_t)node->deadline & WHEEL_MASK);
    node->prev = NIL;
    node->next = self->wheel[slot];
    if (node->next != NIL) self->nodes[node->next].prev = n;
    self->wheel[slot] = n;
    self->bits[slot >> 6] |= 1ULL << (slot & 63);
    self->in_wheel++;
}

static void s_wheel_unlink_at(sched_windows_t *self, uint32_t n, uint32_t slot)
{
    s_node_t *node = &self->nodes[n];
    if (node->prev != NIL) self->nodes[node->prev].next = node->next;
    else self->wheel[slot] = node->next;
    if (node->next != NIL) self->nodes[node->next].prev = node->prev;
    if (self->wheel[slot] == NIL) self->bits[slot >> 6] &= ~(1ULL << (slot & 63));
    node->prev = node->next = NIL;
    self->in_wheel--;
}

static void s_wheel_unlink(sched_windows_t *self, uint32_t n)
{
    s_wheel_unlink_at(self, n, (uint32_t)((uint64_t)self->nodes[n].deadline & WHEEL_MASK));
}

// Unlinks a node from whatever list holds it (per its state).
static void s_detach(sched_windows_t *self, uint32_t n)
{
    switch (s_state(&self->nodes[n])) {
    case SCHED_WS_WAITING:
    case SCHED_WS_BACKOFF: s_wheel_unlink(self, n); break;
    case SCHED_WS_READY: s_ready_unlink(self, n); break;
    default: break;
    }
    s_set_state(&self->nodes[n], SCHED_WS_NONE);
}

// A pending window became due: ready queue, or DUE while the previous job runs.
static void s_make_due(sched_windows_t *self, uint32_t n)
{
    s_node_t *node = &self->nodes[n];
    if (node->flags & F_JOB) s_set_state(node, SCHED_WS_DUE);
    else s_ready_push(self, n, false);
}

static void s_info(const sched_windows_t *self, uint32_t n, sched_window_info_t *out)
{
    const s_node_t *node = &self->nodes[n];
    *out = (sched_window_info_t){
        .conversation_id = node->conv,
        .tenant_id = self->tenants[node->tenant].id,
        .upto = node->upto,
        .deadline_ms = node->deadline,
        .cap_ms = node->cap,
        .channel = (lull_channel_t)((node->flags & F_CHAN) >> F_CHAN_SHIFT),
        .messages = node->msgs,
        .attempt = node->attempt,
        .state = s_state(node),
        .in_flight = (node->flags & F_JOB) != 0,
    };
}

// ---- operations

static uint32_t s_new_node(sched_windows_t *self, int64_t conv, int64_t tenant_id, lull_channel_t channel)
{
    uint32_t t = s_tenant(self, tenant_id);
    if (t == NIL) return NIL;
    uint32_t n = s_alloc(self, conv);
    if (n == NIL) return NIL;
    if ((int)channel < 0 || channel >= LULL_CH_COUNT) channel = LULL_CH_OTHER;
    self->nodes[n].tenant = t;
    self->nodes[n].flags |= (uint8_t)(channel << F_CHAN_SHIFT);
    return n;
}

sched_inbound_t sched_windows_inbound(sched_windows_t *self, int64_t conversation_id, int64_t tenant_id,
                                      lull_channel_t channel, int64_t msg_id, int64_t window_ms, int64_t max_wait_ms)
{
    assert(self);
    int64_t now = lull_clock_mono_ms();
    if (window_ms < 0) window_ms = 0;
    if (max_wait_ms < 0) max_wait_ms = 0;
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL) {
        n = s_new_node(self, conversation_id, tenant_id, channel);
        if (n == NIL) return SCHED_IN_ERROR;
    } else if (msg_id <= self->nodes[n].upto) {
        return SCHED_IN_IGNORED;
    }
    s_node_t *node = &self->nodes[n];
    node->upto = msg_id;
    if (node->msgs < UINT16_MAX) node->msgs++;
    sched_wstate_t st = s_state(node);
    if (st == SCHED_WS_NONE) {  // a new burst (fresh entry, or the previous burst's job is in flight)
        node->cap = now + max_wait_ms;
        node->deadline = now + window_ms < node->cap ? now + window_ms : node->cap;
        node->msgs = 1;
        if (!(node->flags & F_JOB)) node->attempt = 1;
        if (node->deadline <= now) s_make_due(self, n);
        else {
            s_set_state(node, SCHED_WS_WAITING);
            s_wheel_add(self, n);
        }
        return SCHED_IN_OPENED;
    }
    if (st == SCHED_WS_WAITING) {
        int64_t d = now + window_ms < node->cap ? now + window_ms : node->cap;
        if (d != node->deadline) {
            s_wheel_unlink(self, n);
            node->deadline = d;
            if (d <= now) {
                s_set_state(node, SCHED_WS_NONE);
                s_make_due(self, n);
            } else {
                s_wheel_add(self, n);
            }
        }
    }
    // READY / DUE / BACKOFF: already due or retrying; the new message joins the burst being answered.
    return SCHED_IN_RESET;
}

int sched_windows_restore(sched_windows_t *self, int64_t conversation_id, int64_t tenant_id, lull_channel_t channel,
                          int64_t upto, int64_t deadline_ms, int64_t cap_ms)
{
    assert(self);
    if (s_find(self, conversation_id) != NIL) return 0;
    uint32_t n = s_new_node(self, conversation_id, tenant_id, channel);
    if (n == NIL) return -1;
    s_node_t *node = &self->nodes[n];
    node->upto = upto;
    node->msgs = 1;
    node->cap = cap_ms;
    node->deadline = deadline_ms < cap_ms ? deadline_ms : cap_ms;
    if (node->deadline <= lull_clock_mono_ms()) {
        s_ready_push(self, n, false);
    } else {
        s_set_state(node, SCHED_WS_WAITING);
        s_wheel_add(self, n);
    }
    return 1;
}

size_t sched_windows_expire(sched_windows_t *self, sched_windows_fire_fn *fire, void *arg)
{
    assert(self);
    int64_t now = lull_clock_mono_ms();
    if (now <= self->cursor) return 0;
    size_t fired = 0;
    int64_t steps = now - self->cursor;
    if (steps > (int64_t)WHEEL_SLOTS) steps = WHEEL_SLOTS;
    int64_t t = self->cursor + 1, end = self->cursor + steps;
    while (t <= end && self->in_wheel > 0) {
        uint32_t slot = (uint32_t)((uint64_t)t & WHEEL_MASK);
        uint64_t word = self->bits[slot >> 6] >> (slot & 63);
        if (word == 0) {  // skip to the next 64-slot word
            t += 64 - (slot & 63);
            continue;
        }
        int skip = __builtin_ctzll(word);
        if (skip) {
            t += skip;
            continue;
        }
        uint32_t n = self->wheel[slot];
        while (n != NIL) {
            uint32_t next = self->nodes[n].next;
            s_node_t *node = &self->nodes[n];
            if (node->deadline <= now) {
                s_wheel_unlink_at(self, n, slot);
                s_set_state(node, SCHED_WS_NONE);
                s_make_due(self, n);
                fired++;
                if (fire) {
                    sched_window_info_t info;
                    s_info(self, n, &info);
                    fire(arg, &info, now);
                }
            }
            n = next;
        }
        t++;
    }
    self->cursor = now;
    return fired;
}

int64_t sched_windows_next_ms(const sched_windows_t *self)
{
    if (self->in_wheel == 0) return -1;
    int64_t now = lull_clock_mono_ms();
    uint32_t start = (uint32_t)((uint64_t)(self->cursor + 1) & WHEEL_MASK);
    // scan the bitmap from start, wrapping once
    for (uint32_t k = 0; k <= WHEEL_WORDS; k++) {
        uint32_t w = ((start >> 6) + k) % WHEEL_WORDS;
        uint64_t word = self->bits[w];
        if (k == 0) word &= ~0ULL << (start & 63);
        if (word == 0) continue;
        uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(word);
        int64_t dist = (int64_t)((slot - start) & WHEEL_MASK);
        int64_t at = self->cursor + 1 + dist;
        return at <= now ? 0 : at - now;
    }
    return 0;
}

bool sched_windows_pop_ready(sched_windows_t *self, sched_window_info_t *out)
{
    assert(self);
    if (self->rr_cur == NIL) return false;
    uint32_t t = self->rr_cur;
    uint32_t n = self->tenants[t].head;
    assert(n != NIL);
    self->rr_cur = self->tenants[t].rr_next;  // next tenant's turn
    s_ready_unlink(self, n);
    s_set_state(&self->nodes[n], SCHED_WS_NONE);
    if (out) s_info(self, n, out);
    return true;
}

int sched_windows_requeue(sched_windows_t *self, int64_t conversation_id)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL) return -1;
    s_detach(self, n);
    s_ready_push(self, n, true);
    return 0;
}

int sched_windows_defer(sched_windows_t *self, int64_t conversation_id, int64_t deadline_ms)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL) return -1;
    s_detach(self, n);
    s_node_t *node = &self->nodes[n];
    node->deadline = deadline_ms;
    if (node->cap < deadline_ms) node->cap = deadline_ms;
    s_set_state(node, SCHED_WS_WAITING);
    s_wheel_add(self, n);
    return 0;
}

int sched_windows_start_job(sched_windows_t *self, int64_t conversation_id, int64_t upto)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL) return -1;
    s_detach(self, n);
    s_node_t *node = &self->nodes[n];
    node->flags |= F_JOB;
    if (upto > node->upto) node->upto = upto;
    node->msgs = 0;
    return 0;
}

int sched_windows_drop(sched_windows_t *self, int64_t conversation_id)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL) return -1;
    s_detach(self, n);
    s_free(self, n);
    return 0;
}

int sched_windows_job_done(sched_windows_t *self, int64_t conversation_id, int64_t retry_delay_ms, int job_attempt)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL || !(self->nodes[n].flags & F_JOB)) return -1;
    s_node_t *node = &self->nodes[n];
    node->flags &= (uint8_t)~F_JOB;
    sched_wstate_t st = s_state(node);
    if (retry_delay_ms >= 0) {
        node->attempt = (uint8_t)(job_attempt >= 254 ? 255 : job_attempt + 1);
        if (st == SCHED_WS_NONE) {
            node->deadline = lull_clock_mono_ms() + retry_delay_ms;
            s_set_state(node, SCHED_WS_BACKOFF);
            s_wheel_add(self, n);
            return 0;
        }
    } else {
        node->attempt = 1;
    }
    if (st == SCHED_WS_NONE) {
        s_free(self, n);
        return 1;
    }
    if (st == SCHED_WS_DUE) {
        s_set_state(node, SCHED_WS_NONE);
        s_ready_push(self, n, false);
    }
    return 0;
}

int sched_windows_job_lost(sched_windows_t *self, int64_t conversation_id, int job_attempt)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL || !(self->nodes[n].flags & F_JOB)) return -1;
    s_node_t *node = &self->nodes[n];
    node->flags &= (uint8_t)~F_JOB;
    s_detach(self, n);
    node->attempt = (uint8_t)(job_attempt >= 254 ? 255 : job_attempt + 1);
    s_ready_push(self, n, false);
    return 0;
}

int sched_windows_flush(sched_windows_t *self, int64_t conversation_id)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL) return -1;
    sched_wstate_t st = s_state(&self->nodes[n]);
    if (st == SCHED_WS_NONE) return -1;
    if (st == SCHED_WS_WAITING || st == SCHED_WS_BACKOFF) {
        s_detach(self, n);
        s_make_due(self, n);
    }
    return 0;
}

int sched_windows_cancel(sched_windows_t *self, int64_t conversation_id, int64_t *upto)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL) return -1;
    s_node_t *node = &self->nodes[n];
    if (s_state(node) == SCHED_WS_NONE) return -1;
    if (upto) *upto = node->upto;
    s_detach(self, n);
    if (node->flags & F_JOB) node->msgs = 0;
    else s_free(self, n);
    return 0;
}

bool sched_windows_get(const sched_windows_t *self, int64_t conversation_id, sched_window_info_t *out)
{
    uint32_t n = s_find(self, conversation_id);
    if (n == NIL) return false;
    if (out) s_info(self, n, out);
    return true;
}

void sched_windows_each(const sched_windows_t *self, sched_windows_each_fn *fn, void *arg)
{
    for (uint32_t n = 0; n < self->nnodes; n++) {
        if (!(self->nodes[n].flags & F_LIVE)) continue;
        sched_window_info_t info;
        s_info(self, n, &info);
        if (!fn(arg, &info)) return;
    }
}

size_t sched_windows_count(const sched_windows_t *self) { return self->live; }

size_t sched_windows_ready_count(const sched_windows_t *self) { return self->ready; }

size_t sched_windows_bytes(const sched_windows_t *self)
{
    return sizeof *self + (size_t)self->cap_nodes * sizeof(s_node_t) + self->index_cap * sizeof(uint32_t) +
           WHEEL_SLOTS * sizeof(uint32_t) + WHEEL_WORDS * sizeof(uint64_t) +
           (size_t)self->cap_tenants * sizeof(s_tenant_t) + self->tindex_cap * sizeof(uint32_t);
}
