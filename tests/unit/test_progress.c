/* Tests for ops/progress: a quiet meter says nothing; elsewhere than on a
 * terminal, events at the interval, with the share done and the time left
 * when the total is known; on a terminal, a bounded run's status line drawn
 * at once and erased at the end, a stream's events still. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ops/log.h"
#include "ops/progress.h"

/* What fn() wrote on stderr, stderr a file or (tty) a raw pseudo-terminal,
 * in a malloc'd string. */
static char *captured(void (*fn)(void), int tty)
{
    int out, in;
    if (tty) {
        cr_assert_eq(openpty(&in, &out, NULL, NULL, NULL), 0);
        struct termios t;
        tcgetattr(out, &t);
        cfmakeraw(&t);
        tcsetattr(out, TCSANOW, &t);
        setenv("TERM", "xterm", 1);
    } else {
        char path[] = "/tmp/rr-test-progress.XXXXXX";
        out = mkstemp(path);
        cr_assert_geq(out, 0);
        unlink(path);
        in = dup(out);
    }
    int saved = dup(STDERR_FILENO);
    dup2(out, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *buf = calloc(1, 65536);
    size_t n = 0;
    if (!tty) lseek(in, 0, SEEK_SET);
    fcntl(in, F_SETFL, O_NONBLOCK);
    for (ssize_t r; n < 65535 && (r = read(in, buf + n, 65535 - n)) > 0;)
        n += (size_t)r;
    close(out);
    close(in);
    return buf;
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p++)
        n++;
    return n;
}

static void quiet_meter(void)
{
    rr_log_set_format(RR_LOG_JSON);
    rr_progress_set_interval(0.1);
    rr_progress_t p;
    rr_progress_init(&p, 1, 1, 1000, "bytes");
    sleep_s(0.15);
    cr_assert(!rr_progress_due(&p));
    rr_progress_update(&p, 10, 100, 1, 1);
    rr_progress_finish(&p);
}

Test(progress, a_quiet_meter_says_nothing)
{
    char *s = captured(quiet_meter, 0);
    cr_assert_str_eq(s, "");
    free(s);
}

static void events_at_the_interval(void)
{
    rr_log_set_format(RR_LOG_JSON);
    rr_progress_set_interval(0.2);
    rr_progress_t p;
    rr_progress_init(&p, 0, 1, 1000, "bytes");
    rr_progress_update(&p, 10, 100, 1, 1); /* before the interval: nothing */
    sleep_s(0.25);
    cr_assert(rr_progress_due(&p));
    rr_progress_update(&p, 500, 250, 7, 2);
    cr_assert(!rr_progress_due(&p));
    rr_progress_update(&p, 600, 300, 7, 2); /* the next is 0.2 s on */
    rr_progress_finish(&p);
    rr_progress_t q; /* a stream: no total, no share */
    rr_progress_init(&q, 0, 0, 0, NULL);
    sleep_s(0.25);
    rr_progress_update(&q, 40, 0, 3, 1);
    rr_progress_set_interval(5);
}

Test(progress, elsewhere_than_a_terminal_events_come_at_the_interval)
{
    char *s = captured(events_at_the_interval, 0);
    cr_assert_eq(count(s, "\n"), 2, "%s", s);
    cr_assert(strstr(s, "\"component\":\"run\",\"input\":500,\"events_per_s\":"), "%s", s);
    cr_assert(strstr(s, ",\"open_conversations\":7,\"open_days\":2,\"percent\":25.0}\n"), "%s", s);
    cr_assert(strstr(s, ",\"open_conversations\":3,\"open_days\":1}\n"), "%s", s);
    cr_assert_null(strchr(s, '\r'), "%s", s);
    free(s);
}

static void time_left(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_progress_set_interval(1.1);
    rr_progress_t p;
    rr_progress_init(&p, 0, 1, 1000, "offsets");
    sleep_s(1.15);
    rr_progress_update(&p, 500, 250, 7, 2); /* a quarter in 1.15 s: 3.45 s to go */
    rr_progress_set_interval(5);
}

Test(progress, the_time_left_is_at_the_pace_so_far)
{
    char *s = captured(time_left, 0);
    cr_assert(strstr(s, " info run: progress input=500 "), "%s", s);
    cr_assert(strstr(s, " percent=25.0 seconds_left=3\n") ||
                  strstr(s, " percent=25.0 seconds_left=4\n"),
              "%s", s);
    free(s);
}

static void on_a_terminal(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_progress_set_interval(0.1);
    rr_progress_t p;
    rr_progress_init(&p, 0, 1, 251000000, "bytes");
    cr_assert(rr_progress_due(&p)); /* at once */
    rr_progress_update(&p, 1210000, 121000000, 7, 2);
    sleep_s(0.3);
    rr_progress_update(&p, 1300000, 130000000, 7, 2); /* redrawn; no event on a terminal */
    rr_progress_finish(&p);
    rr_progress_t q; /* a stream on a terminal: events */
    rr_progress_init(&q, 0, 0, 0, NULL);
    sleep_s(0.15);
    rr_progress_update(&q, 40, 0, 3, 1);
    rr_progress_set_interval(5);
}

Test(progress, a_bounded_run_on_a_terminal_redraws_one_line)
{
    char *s = captured(on_a_terminal, 1);
    cr_assert(!strncmp(s, "\r1.21M events  ", 15), "%s", s);
    cr_assert(strstr(s, "events/s  48.2% of 251 MB  -:-- left\033[K\r1.30M events  "), "%s", s);
    cr_assert(strstr(s, "51.8% of 251 MB  -:-- left\033[K\r\033[K"), "erased at the end: %s", s);
    cr_assert_eq(count(s, "progress"), 1, "%s", s);
    cr_assert(strstr(s, " info run: progress input=40 "), "%s", s);
    free(s);
}
