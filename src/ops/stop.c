/* ops/stop.c: SIGINT/SIGTERM dispositions (see stop.h). */
#include "ops/stop.h"

#include <string.h>
#include <unistd.h>

#include "ops/log.h"

static volatile sig_atomic_t stop_flag, stop_signo, hold, mode, settled;
static void (*discard_fn)(void);

/* Async-signal-safe: flags, the log's signal-safe line, the caller's discard
 * function (itself async-signal-safe) and _exit only. */
static void on_signal(int sig)
{
    if (settled) return; /* the command's outcome is decided: too late to change it */
    int again = stop_flag;
    if (!stop_signo) stop_signo = sig;
    stop_flag = stop_signo; /* the first signal's number: readers may report it */
    if (hold || mode == RR_STOP_FLAG || (mode == RR_STOP_GRACEFUL && !again)) return;
    if (discard_fn) discard_fn();
    rr_log_signal_safe(RR_LOG_ERROR, "cli",
                       "stopped by a signal: temporary files removed, nothing published");
    _exit(128 + sig);
}

void rr_stop_install(rr_stop_mode_t m, void (*discard)(void))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a blocking call returns EINTR and its loop sees the flag
     * sooner; every read/write loop here retries EINTR */
    stop_flag = 0;
    stop_signo = 0;
    hold = 0;
    settled = 0;
    mode = (sig_atomic_t)m;
    discard_fn = discard;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void rr_stop_settle(void)
{
    settled = 1;
}

volatile sig_atomic_t *rr_stop_flag(void)
{
    return &stop_flag;
}

int rr_stop_signal(void)
{
    return stop_signo;
}

const char *rr_stop_signal_name(int signo)
{
    return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "signal";
}

void rr_stop_hold(int on)
{
    hold = on ? 1 : 0;
}
