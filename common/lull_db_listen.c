// The LISTEN connection (see the header): the one reconnect-and-LISTEN loop the scheduler map reader, the
// scheduler's rebalance and the inbox stream share.
#include "lull_db_listen.h"
#include "lull_log.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_CHANNEL_MAX 63  // an unquoted PostgreSQL identifier

struct lull_db_listen {
    lull_db_t *db;        // the listener's own connection
    char channel[S_CHANNEL_MAX + 1];
    char listen_sql[S_CHANNEL_MAX + 8];  // "LISTEN <channel>": also the idle check's statement
    char *what;           // for the log lines
    bool listening;
    bool notified;        // a notification on the channel came during this step
    void (*on_start)(void *arg);
    void (*on_payload)(const char *payload, void *arg);
    void *hook_arg;
    int wake[2];          // non-blocking pipe: another thread wakes the owner's lull_db_listen_wait
};

static bool s_channel_ok(const char *c)
{
    size_t n = c ? strlen(c) : 0;
    if (n < 1 || n > S_CHANNEL_MAX || c[0] < 'a' || c[0] > 'z') return false;
    for (size_t i = 0; i < n; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '_')) return false;
    return true;
}

lull_db_listen_t *lull_db_listen_new(const char *url, const char *channel, const char *what)
{
    if (!s_channel_ok(channel)) return NULL;
    lull_db_listen_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->wake[0] = self->wake[1] = -1;
    if (pipe(self->wake) != 0) {
        self->wake[0] = self->wake[1] = -1;
        lull_db_listen_destroy(&self);
        return NULL;
    }
    for (int i = 0; i < 2; i++) (void)fcntl(self->wake[i], F_SETFL, fcntl(self->wake[i], F_GETFL) | O_NONBLOCK);
    snprintf(self->channel, sizeof self->channel, "%s", channel);
    snprintf(self->listen_sql, sizeof self->listen_sql, "LISTEN %s", channel);  // checked: a plain identifier
    self->what = strdup(what ? what : channel);
    self->db = self->what ? lull_db_new(url ? url : "") : NULL;
    if (!self->db) {
        lull_db_listen_destroy(&self);
        return NULL;
    }
    lull_db_set_backoff(self->db, 50, 1000);
    lull_db_set_probe_sql(self->db, self->listen_sql);
    return self;
}

void lull_db_listen_destroy(lull_db_listen_t **self_p)
{
    if (!self_p || !*self_p) return;
    lull_db_listen_t *self = *self_p;
    lull_db_destroy(&self->db);
    for (int i = 0; i < 2; i++)
        if (self->wake[i] >= 0) close(self->wake[i]);
    free(self->what);
    free(self);
    *self_p = NULL;
}

static void s_on_notify(const char *channel, const char *payload, void *arg)
{
    lull_db_listen_t *self = arg;
    if (strcmp(channel, self->channel) != 0) return;
    self->notified = true;
    if (self->on_payload) self->on_payload(payload ? payload : "", self->hook_arg);
}

// Connects and LISTENs; true when listening now.
static bool s_listen(lull_db_listen_t *self)
{
    if (lull_db_connect(self->db) != 0 || lull_db_run(self->db, self->listen_sql, 0, NULL, NULL) != 0) return false;
    self->listening = true;
    LOG_INFO("notify.listening", "listening for changes", "channel", LS(self->channel), "what", LS(self->what));
    if (self->on_start) self->on_start(self->hook_arg);
    return true;
}

int lull_db_listen_step(lull_db_listen_t *self)
{
    bool restarted = false;
    for (int attempt = 0; attempt < 2; attempt++) {  // a lost connection is reconnected at once (backoff permitting)
        if (!self->listening) {
            if (!s_listen(self)) return -1;
            restarted = true;
        }
        self->notified = false;
        if (lull_db_notifications(self->db, s_on_notify, self) == 0) return restarted || self->notified ? 1 : 0;
        LOG_WARN("notify.lost", "lost the LISTEN connection; reconnecting", "channel", LS(self->channel), "error",
                 LS(lull_db_error(self->db)));
        self->listening = false;
    }
    return -1;
}

int lull_db_listen_fd(lull_db_listen_t *self)
{
    return self->listening ? lull_db_socket(self->db) : -1;
}

bool lull_db_listen_up(const lull_db_listen_t *self)
{
    return self->listening;
}

lull_db_t *lull_db_listen_db(lull_db_listen_t *self)
{
    return self->db;
}

void lull_db_listen_set_hooks(lull_db_listen_t *self, void (*on_start)(void *arg),
                              void (*on_payload)(const char *payload, void *arg), void *arg)
{
    self->on_start = on_start;
    self->on_payload = on_payload;
    self->hook_arg = arg;
}

void lull_db_listen_wait(lull_db_listen_t *self, int64_t timeout_ms)
{
    if (timeout_ms < 0) timeout_ms = 0;
    if (!self->listening && timeout_ms > LULL_DB_LISTEN_RETRY_MS) timeout_ms = LULL_DB_LISTEN_RETRY_MS;
    if (timeout_ms > 60000) timeout_ms = 60000;
    struct pollfd fds[2] = {{.fd = self->wake[0], .events = POLLIN}, {.fd = lull_db_listen_fd(self), .events = POLLIN}};
    if (poll(fds, 2, (int)timeout_ms) > 0 && (fds[0].revents & POLLIN)) {
        char drain[64];
        while (read(self->wake[0], drain, sizeof drain) > 0) {}
    }
}

void lull_db_listen_wake(lull_db_listen_t *self)
{
    char c = 1;
    ssize_t w = write(self->wake[1], &c, 1);
    (void)w;  // a full pipe already wakes the owner
}
