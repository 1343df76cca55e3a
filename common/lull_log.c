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

// A line being formatted: members are appended whole or not at all, so that a line cut short (a field too long
// for the buffer) is still one JSON object, ending with "truncated":true.
typedef struct {
    char *buf;
    int lim;   // bytes usable for members: the buffer less room for ,"truncated":true} and the NUL
    int pos;
    int good;  // the end of the last complete member
    bool cut;
} s_line_t;

#define S_TAIL ",\"truncated\":true}"

// The length of the UTF-8 sequence at c when it is a valid one (no overlong form, surrogate or code point
// past U+10FFFF), else 0.
static int s_utf8_seq(const unsigned char *c)
{
    int n;
    uint32_t v, min;
    if (c[0] >= 0xc2 && c[0] <= 0xdf) n = 2, v = c[0] & 0x1f, min = 0x80;
    else if ((c[0] & 0xf0) == 0xe0) n = 3, v = c[0] & 0x0f, min = 0x800;
    else if (c[0] >= 0xf0 && c[0] <= 0xf4) n = 4, v = c[0] & 0x07, min = 0x10000;
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((c[i] & 0xc0) != 0x80) return 0;  // a NUL ends the sequence too
        v = (v << 6) | (c[i] & 0x3f);
    }
    return v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ? 0 : n;
}

// Appends s as a JSON string literal: quotes, newlines and control bytes escaped, bytes that are not UTF-8
// written as U+FFFD, the content cut on a character boundary when it does not fit. false when not even the
// quotes fit (nothing written); a cut content sets l->cut.
static bool s_put_json_string(s_line_t *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int p = l->pos;
    if (p + 2 > l->lim) return false;
    l->buf[p++] = '"';
    const unsigned char *c = (const unsigned char *)(s ? s : "");
    while (*c) {
        char esc[8];
        const char *out = esc;
        int k, adv = 1;
        if (*c == '"' || *c == '\\' || *c == '\n') {
            esc[0] = '\\';
            esc[1] = *c == '\n' ? 'n' : (char)*c;
            k = 2;
        } else if (*c < 0x20 || *c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*c >> 4];
            esc[5] = hex[*c & 15];
            k = 6;
        } else if (*c < 0x80) {
            out = (const char *)c;
            k = 1;
        } else if ((adv = s_utf8_seq(c)) > 0) {
            out = (const char *)c;
            k = adv;
        } else {
            out = "\\ufffd";
            k = 6;
            adv = 1;
        }
        if (p + k + 1 > l->lim) {  // + the closing quote
            l->cut = true;
            break;
        }
        memcpy(l->buf + p, out, (size_t)k);
        p += k;
        c += adv;
    }
    l->buf[p++] = '"';
    l->pos = p;
    return true;
}

// Appends s whole, or nothing (false).
static bool s_put_raw(s_line_t *l, const char *s)
{
    int n = (int)strlen(s);
    if (l->pos + n > l->lim) return false;
    memcpy(l->buf + l->pos, s, (size_t)n);
    l->pos += n;
    return true;
}

// Starts the member key (a comma before all but the first).
static bool s_key(s_line_t *l, const char *key)
{
    return !l->cut && (l->good == 1 || s_put_raw(l, ",")) && s_put_json_string(l, key) && !l->cut &&
           s_put_raw(l, ":");
}

// Ends a member: kept when it was written (ok), else the line goes back to the member before and is cut.
static void s_end(s_line_t *l, bool ok)
{
    if (ok) {
        l->good = l->pos;
    } else {
        l->pos = l->good;
        l->cut = true;
    }
}

static int s_format_v(char *buf, int cap, int64_t wall_ms, lull_log_level_t level, const char *ev,
                      const char *msg, va_list ap)
{
    if (cap < (int)sizeof S_TAIL + 2) {
        if (cap > 0) buf[0] = '\0';
        return 0;
    }
    s_line_t l = {buf, cap - (int)sizeof S_TAIL, 0, 1, false};
    buf[l.pos++] = '{';
    char ts[40], num[48];
    s_end(&l, s_key(&l, "ts") && s_put_json_string(&l, lull_clock_format_rfc3339(wall_ms, ts, sizeof ts)));
    s_end(&l, s_key(&l, "lvl") &&
                  s_put_json_string(&l, s_level_names[level >= LULL_LOG_DEBUG && level <= LULL_LOG_ERROR ? level : 1]));
    s_end(&l, s_key(&l, "proc") && s_put_json_string(&l, s_proc));
    snprintf(num, sizeof num, "%d", (int)getpid());
    s_end(&l, s_key(&l, "pid") && s_put_raw(&l, num));
    s_end(&l, s_key(&l, "ev") && s_put_json_string(&l, ev));
    if (msg) s_end(&l, s_key(&l, "msg") && s_put_json_string(&l, msg));
    for (const char *key = va_arg(ap, const char *); key; key = va_arg(ap, const char *)) {
        lull_logv_t v = va_arg(ap, lull_logv_t);
        if (l.cut) continue;  // the arguments are still read through, to the NULL key
        bool ok = s_key(&l, key);
        switch (v.type) {
        case 's': ok = ok && s_put_json_string(&l, v.v.s); break;
        case 'i': snprintf(num, sizeof num, "%lld", (long long)v.v.i); ok = ok && s_put_raw(&l, num); break;
        case 'd':
            if (isfinite(v.v.d)) snprintf(num, sizeof num, "%.6g", v.v.d);
            else snprintf(num, sizeof num, "null");
            ok = ok && s_put_raw(&l, num);
            break;
        case 'b': ok = ok && s_put_raw(&l, v.v.b ? "true" : "false"); break;
        case 'j': ok = ok && s_put_raw(&l, v.v.s ? v.v.s : "null"); break;
        default: ok = ok && s_put_raw(&l, "null"); break;
        }
        s_end(&l, ok);
    }
    // the lim left room for the tail
    const char *tail = l.cut ? S_TAIL : "}";
    size_t tl = strlen(tail);
    memcpy(buf + l.pos, tail, tl + 1);
    return l.pos + (int)tl;
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
