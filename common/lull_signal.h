// Signal handling: handlers only set flags (and poke a pipe); event loops check them and shut down in order.
#ifndef LULL_SIGNAL_H
#define LULL_SIGNAL_H

#include <stdbool.h>

// Installs handlers for SIGTERM, SIGINT (stop) and SIGHUP (reopen log); ignores SIGPIPE. 0/-1.
int lull_signal_install(void);
// True once SIGTERM or SIGINT arrived (or lull_signal_request_stop was called).
bool lull_signal_stop_requested(void);
// Asks the process to stop, as a signal would (for tests and fatal errors).
void lull_signal_request_stop(void);
// True once per SIGHUP: the caller should reopen its log.
bool lull_signal_take_hup(void);
// Read end of a self-pipe that becomes readable when a signal arrives (for poll loops); -1 if not installed.
int lull_signal_fd(void);
// Drains the self-pipe (call after it polled readable).
void lull_signal_drain(void);

#endif
