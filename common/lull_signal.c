// Signal flags and a self-pipe so that poll loops wake up at once on SIGTERM/SIGINT/SIGHUP.
#include "lull_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_bool s_stop;
static atomic_bool s_hup;
static int s_pipe[2] = {-1, -1};

static void s_on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGHUP)
        atomic_store(&s_hup, true);
    else
        atomic_store(&s_stop, true);
    if (s_pipe[1] >= 0) {
        char c = 1;
        ssize_t rc = write(s_pipe[1], &c, 1);
        (void)rc;
    }
    errno = saved;
}

int lull_signal_install(void)
{
    if (s_pipe[0] < 0) {
        if (pipe2(s_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
            return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) || sigaction(SIGHUP, &sa, NULL))
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

bool lull_signal_stop_requested(void) { return atomic_load(&s_stop); }

void lull_signal_request_stop(void)
{
    s_on_signal(SIGTERM);
}

bool lull_signal_take_hup(void) { return atomic_exchange(&s_hup, false); }

int lull_signal_fd(void) { return s_pipe[0]; }

void lull_signal_drain(void)
{
    char buf[64];
    while (s_pipe[0] >= 0 && read(s_pipe[0], buf, sizeof buf) > 0) {
    }
}
