// JSON-lines log writer: a process-wide sink (stderr or LULL_LOG_FILE), reopened on SIGHUP.
#include "lull_log.h"
#include "lull_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 16384

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_fd = 2;
static char s_proc[32] = "lull";
static char *s_path = NULL;
static lull_log_level_t s_level = LULL_LOG_INFO;

static const char *s_level_names[] = {"debug", "info", "warn", "error"};

// Appends a JSON string literal of s to buf at *pos (bounded; truncates safely).
static void s_put_json_string(char *buf, int cap, int *pos, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int p = *pos;
    if (p < cap - 1) buf[p++] = '"';
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c && p < cap - 8; c++) {
        if (*c == '"' || *c == '\\') {
            buf[p++] = '\\';
            buf[p++] = (char)*c;
        } else if (*c == '\n') {
            buf[p++] = '\\';
            buf[p++] = 'n';
        } else if (*c < 0x20 || *c == 0x7f) {
            buf[p++] = '\\';
            buf[p++] = 'u';
            buf[p++] = '0';
            buf[p++] = '0';
            buf[p++] = hex[*c >> 4];
            buf[p++] = hex[*c & 15];
        } else {
            buf[p++] = (char)*c;
        }
    }
    if (p < cap - 1) buf[p++] = '"';
    *pos = p;
}

static void s_put_raw(char *buf, int cap, int *pos, const char *s)
{
    int n = snprintf(buf + *pos, (size_t)(cap - *pos), "%s", s);
    if (n > 0) *pos = (*pos + n < cap - 1) ? *pos + n : cap - 1;
}

static int s_format_v(char *buf, int cap, int64_t wall_ms, lull_log_level_t level, const char *ev,
                      const char *msg, va_list ap)
{
    char ts[40];
    int pos = 0;
    int n = snprintf(buf, (size_t)cap, "{\"ts\":\"%s\",\"lvl\":\"%s\",\"proc\":",
                     lull_clock_format_rfc3339(wall_ms, ts, sizeof ts),
                     s_level_names[level >= LULL_LOG_DEBUG && level <= LULL_LOG_ERROR ? level : 1]);
    pos = n < cap ? n : cap - 1;
    s_put_json_string(buf, cap, &pos, s_proc);
    char num[48];
    snprintf(num, sizeof num, ",\"pid\":%d,\"ev\":", (int)getpid());
    s_put_raw(buf, cap, &pos, num);
    s_put_json_string(buf, cap, &pos, ev);
    if (msg) {
        s_put_raw(buf, cap, &pos, ",\"msg\":");
        s_put_json_string(buf, cap, &pos, msg);
    }
    for (const char *key = va_arg(ap, const char *); key; key = va_arg(ap, const char *)) {
        lull_logv_t v = va_arg(ap, lull_logv_t);
        s_put_raw(buf, cap, &pos, ",");
        s_put_json_string(buf, cap, &pos, key);
        s_put_raw(buf, cap, &pos, ":");
        switch (v.type) {
        case 's': s_put_json_string(buf, cap, &pos, v.v.s); break;
        case 'i': snprintf(num, sizeof num, "%lld", (long long)v.v.i); s_put_raw(buf, cap, &pos, num); break;
        case 'd':
            if (isfinite(v.v.d)) snprintf(num, sizeof num, "%.6g", v.v.d);
            else snprintf(num, sizeof num, "null");
            s_put_raw(buf, cap, &pos, num);
            break;
        case 'b': s_put_raw(buf, cap, &pos, v.v.b ? "true" : "false"); break;
        case 'j': s_put_raw(buf, cap, &pos, v.v.s ? v.v.s : "null"); break;
        default: s_put_raw(buf, cap, &pos, "null"); break;
        }
    }
    // A truncated line still closes its object; cut back inside the buffer if needed.
    if (pos > cap - 3) pos = cap - 3;
    buf[pos++] = '}';
    buf[pos] = '\0';
    return pos;
}

int lull_log_format(char *buf, int cap, int64_t wall_ms, lull_log_level_t level, const char *ev,
                    const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    int n = s_format_v(buf, cap, wall_ms, level, ev, msg, ap);
    va_end(ap);
    return n;
}

void lull_log_at(lull_log_level_t level, const char *ev, const char *msg, ...)
{
    if (level < s_level) return;
    char buf[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, msg);
    int n = s_format_v(buf, sizeof buf - 1, lull_clock_wall_ms(), level, ev, msg, ap);
    va_end(ap);
    buf[n++] = '\n';
    pthread_mutex_lock(&s_lock);
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(s_fd, p, (size_t)n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        n -= (int)w;
    }
    pthread_mutex_unlock(&s_lock);
}

static int s_open_path(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int lull_log_open(const char *proc, const char *path, lull_log_level_t level)
{
    pthread_mutex_lock(&s_lock);
    snprintf(s_proc, sizeof s_proc, "%s", proc ? proc : "lull");
    s_level = level;
    free(s_path);
    s_path = NULL;
    int rc = 0;
    if (path && *path) {
        int fd = s_open_path(path);
        if (fd < 0) {
            rc = -1;
        } else {
            if (s_fd > 2) close(s_fd);
            s_fd = fd;
            s_path = strdup(path);
        }
    }
    pthread_mutex_unlock(&s_lock);
    return rc;
}

int lull_log_reopen(void)
{
    int rc = 0;
    pthread_mutex_lock(&s_lock);
    if (s_path) {
        int fd = s_open_path(s_path);
        if (fd < 0) {
            rc = -1;  // keep writing to the old descriptor rather than lose lines
        } else {
            if (s_fd > 2) close(s_fd);
            s_fd = fd;
        }
    }
    pthread_mutex_unlock(&s_lock);
    return rc;
}

void lull_log_close(void)
{
    pthread_mutex_lock(&s_lock);
    if (s_fd > 2) {
        fsync(s_fd);
        close(s_fd);
    }
    s_fd = 2;
    free(s_path);
    s_path = NULL;
    pthread_mutex_unlock(&s_lock);
}

void lull_log_set_level(lull_log_level_t level) { s_level = level; }

bool lull_log_enabled(lull_log_level_t level) { return level >= s_level; }

int lull_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, s_level_names[i]) == 0) return i;
    return -1;
}
