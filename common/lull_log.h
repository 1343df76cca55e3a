// JSON-lines logging, one object per line: ts, lvl, proc, pid, ev, msg and typed fields (ids, counts).
#ifndef LULL_LOG_H
#define LULL_LOG_H

#include <stdbool.h>
#include <stdint.h>
// <syslog.h> (pulled in by czmq) defines LOG_INFO and LOG_DEBUG as priorities. Include it here first so
// its include guard makes later includes no-ops, then take the names for lull's log macros.
#include <syslog.h>
#undef LOG_DEBUG
#undef LOG_INFO

typedef enum { LULL_LOG_DEBUG = 0, LULL_LOG_INFO, LULL_LOG_WARN, LULL_LOG_ERROR } lull_log_level_t;

// One typed field value; build with LS/LI/LD/LB below.
typedef struct {
    char type;  // 's' string, 'i' integer, 'd' double, 'b' bool, 'j' raw JSON (trusted, built by us)
    union {
        const char *s;
        int64_t i;
        double d;
        bool b;
    } v;
} lull_logv_t;

#define LS(x) ((lull_logv_t){.type = 's', .v.s = (x)})
#define LI(x) ((lull_logv_t){.type = 'i', .v.i = (int64_t)(x)})
#define LD(x) ((lull_logv_t){.type = 'd', .v.d = (double)(x)})
#define LB(x) ((lull_logv_t){.type = 'b', .v.b = (x)})
#define LJ(x) ((lull_logv_t){.type = 'j', .v.s = (x)})

// Opens the process log: proc is the process name ("worker"), path NULL or "" for stderr. 0/-1.
int lull_log_open(const char *proc, const char *path, lull_log_level_t level);
// Reopens the log file (after logrotate moved it; called when SIGHUP was seen). 0/-1.
int lull_log_reopen(void);
// Flushes and closes the log; later lines go to stderr.
void lull_log_close(void);
// Sets the minimum level written.
void lull_log_set_level(lull_log_level_t level);
// True when lines of this level are written (to skip building expensive fields).
bool lull_log_enabled(lull_log_level_t level);
// Parses "debug"/"info"/"warn"/"error"; -1 when unknown.
int lull_log_level_parse(const char *name);
// Writes one line: level, event name, message (may be NULL), then pairs (const char *key, lull_logv_t value)
// terminated by a NULL key. Thread-safe; one write(2) per line.
void lull_log_at(lull_log_level_t level, const char *ev, const char *msg, ...);
// Formats one line into buf (without newline) as lull_log_at would; returns its length. For tests.
int lull_log_format(char *buf, int cap, int64_t wall_ms, lull_log_level_t level, const char *ev,
                    const char *msg, ...);

#define LOG_DEBUG(...) lull_log_at(LULL_LOG_DEBUG, __VA_ARGS__, (const char *)NULL)
#define LOG_INFO(...) lull_log_at(LULL_LOG_INFO, __VA_ARGS__, (const char *)NULL)
#define LOG_WARN(...) lull_log_at(LULL_LOG_WARN, __VA_ARGS__, (const char *)NULL)
#define LOG_ERROR(...) lull_log_at(LULL_LOG_ERROR, __VA_ARGS__, (const char *)NULL)

#endif
