/* ops/stop.h: SIGINT and SIGTERM for the subcommands that write files.
 *
 * A scheduler stops a job with SIGTERM (Ctrl-C sends SIGINT) and may send it
 * again when the job is slow to go. What the process does with them:
 *
 *   RR_STOP_GRACEFUL  (bounded runs) the first signal sets the stop flag and
 *                     records which signal it was: the run stops reading,
 *                     publishes nothing, prints its summary and exits 128+N.
 *                     A second one removes every temporary file in flight
 *                     (io/tmpfile.h), says so (rr_log_signal_safe) and
 *                     _exits 128+N at once, unless the run
 *                     is publishing (rr_stop_hold): renames take
 *                     microseconds, and cutting them short would publish
 *                     part of a run.
 *   RR_STOP_FLAG      (streaming) every signal only sets the flag: the
 *                     stream commits and returns.
 *   RR_STOP_EXIT      (gen, export: nothing to report) the first signal
 *                     removes the temporaries and _exits 128+N, unless the
 *                     command is publishing (rr_stop_hold).
 *
 * Once a command has decided its outcome (published, or not), it settles
 * (rr_stop_settle): from then on a signal changes nothing, so a process that
 * has published never exits 128+N beside complete outputs. The handlers stay
 * installed until the process exits (cli/main.c then blocks both signals),
 * rather than the default dispositions coming back while the summary is
 * still being printed.
 *
 * Signal dispositions are process-wide, so this module's state is too: one
 * installation at a time, by the subcommand's thread. The flag may be read
 * from any thread (it is a volatile sig_atomic_t, set only by the handler
 * and by rr_stop_install).
 * Layer: ops (libc only). pipeline/run.c installs it for a run's duration.
 */
#ifndef RR_OPS_STOP_H
#define RR_OPS_STOP_H

#include <signal.h>

typedef enum rr_stop_mode {
    RR_STOP_GRACEFUL,
    RR_STOP_FLAG,
    RR_STOP_EXIT,
} rr_stop_mode_t;

/* Catch SIGINT and SIGTERM as mode says; clears the flag. discard (may be
 * NULL) runs in the handler before an immediate exit: it must be
 * async-signal-safe (io/tmpfile.h's rr_tmpfile_discard_all_signal_safe). */
void rr_stop_install(rr_stop_mode_t mode, void (*discard)(void));

/* The command's outcome is decided: every signal from now on is ignored
 * (not even recorded), until rr_stop_install is called again. */
void rr_stop_settle(void);

/* Nonzero once a signal arrived (the first signal's number): the flag a run
 * polls. Owned by this module. */
volatile sig_atomic_t *rr_stop_flag(void);

/* The first signal that arrived (SIGINT, SIGTERM), or 0. */
int rr_stop_signal(void);

/* "SIGINT", "SIGTERM", or "signal" for another number. */
const char *rr_stop_signal_name(int signo);

/* on: no signal exits at once (the command is publishing: a second signal in
 * a bounded run, the first in gen or export); off: they do again. */
void rr_stop_hold(int on);

#endif
