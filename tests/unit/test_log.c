/* Tests for ops/log: the threshold, the text and JSON forms of messages and
 * events, escaping, that a line is always one line, the status line on a
 * (pseudo-)terminal, and the signal handler's line. */
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

/* What rr_log wrote on stderr during fn(), in a malloc'd string. */
static char *captured(void (*fn)(void))
{
    char path[] = "/tmp/rr-test-log.XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)n + 1);
    cr_assert_eq(pread(fd, buf, (size_t)n, 0), n);
    close(fd);
    unlink(path);
    return buf;
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void levels(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_log_set_level(RR_LOG_WARN);
    rr_log(RR_LOG_ERROR, "run", "an error");
    rr_log(RR_LOG_WARN, "run", "a warning");
    rr_log(RR_LOG_INFO, "run", "some info");
    rr_log(RR_LOG_DEBUG, "run", "a detail");
    rr_log(5, "kafka", "a notice"); /* syslog notice: between warn and info */
    rr_log_set_level(RR_LOG_INFO);
}

Test(log, lines_above_the_threshold_are_dropped)
{
    char *s = captured(levels);
    cr_assert_eq(lines(s), 2, "%s", s);
    cr_assert(strstr(s, " error run: an error\n"), "%s", s);
    cr_assert(strstr(s, " warn run: a warning\n"), "%s", s);
    cr_assert_null(strstr(s, "info"));
    free(s);
}

static void text_line(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_log(RR_LOG_INFO, "kafka", "partition %d of %s", 3, "events");
}

Test(log, text_starts_with_an_iso_utc_timestamp)
{
    char *s = captured(text_line);
    int y, mo, d, h, mi, sec, ms;
    char rest[128];
    cr_assert_eq(
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %127[^\n]", &y, &mo, &d, &h, &mi, &sec, &ms, rest),
        8, "%s", s);
    cr_assert_str_eq(rest, "info kafka: partition 3 of events");
    free(s);
}

static void json_line(void)
{
    rr_log_set_format(RR_LOG_JSON);
    rr_log(RR_LOG_WARN, "run", "file \"a\\b.pb\":\n\tcut short");
    rr_log_set_format(RR_LOG_TEXT);
}

Test(log, json_is_one_object_a_line_with_the_message_escaped)
{
    char *s = captured(json_line);
    cr_assert_eq(lines(s), 1, "%s", s);
    cr_assert(!strncmp(s, "{\"type\":\"log\",\"ts\":\"", 20), "%s", s);
    cr_assert(strstr(s, "\"level\":\"warn\",\"component\":\"run\","
                        "\"msg\":\"file \\\"a\\\\b.pb\\\":\\u000a\\u0009cut short\"}\n"),
              "%s", s);
    free(s);
}

static void long_line(void)
{
    static char big[10000];
    memset(big, 'x', sizeof big - 1);
    rr_log(RR_LOG_ERROR, "run", "%s", big);
}

Test(log, a_message_too_long_is_cut_but_stays_one_line)
{
    char *s = captured(long_line);
    cr_assert_eq(lines(s), 1);
    cr_assert_eq(s[strlen(s) - 1], '\n');
    free(s);
}

Test(log, level_and_format_names)
{
    rr_log_level_t l;
    rr_log_format_t f;
    cr_assert_eq(rr_log_parse_level("debug", &l), 0);
    cr_assert_eq(l, RR_LOG_DEBUG);
    cr_assert_eq(rr_log_parse_level("warning", &l), 0);
    cr_assert_eq(l, RR_LOG_WARN);
    cr_assert_eq(rr_log_parse_level("loud", &l), -1);
    cr_assert_eq(rr_log_parse_format("json", &f), 0);
    cr_assert_eq(f, RR_LOG_JSON);
    cr_assert_eq(rr_log_parse_format("xml", &f), -1);
}

/* ---- events ---- */

static void json_event(void)
{
    rr_log_set_format(RR_LOG_JSON);
    rr_log_event(RR_LOG_INFO, "run", "commit", "\"why\":\"%s\",\"partitions\":%d,\"lag\":%d",
                 "interval", 4, 0);
    rr_log_set_format(RR_LOG_TEXT);
}

Test(log, json_events_open_with_type_ts_level_component_then_their_fields_in_order)
{
    char *s = captured(json_event);
    cr_assert_eq(lines(s), 1, "%s", s);
    cr_assert(!strncmp(s, "{\"type\":\"commit\",\"ts\":\"", 23), "%s", s);
    cr_assert(strstr(s, "Z\",\"level\":\"info\",\"component\":\"run\","
                        "\"why\":\"interval\",\"partitions\":4,\"lag\":0}\n"),
              "%s", s);
    free(s);
}

static void text_event(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_log_event(RR_LOG_WARN, "gen", "gen_summary",
                 "\"events\":5,\"topic\":\"a.b\",\"why\":\"two words\",\"empty\":\"\","
                 "\"q\":\"say \\\"hi\\\"\",\"parts\":[0,1,2],\"expect\":{\"applied\":4,\"late\":1},"
                 "\"none\":null");
}

Test(log, text_events_are_the_kind_then_key_value_pairs)
{
    char *s = captured(text_event);
    char *rest = strchr(s, ' ');
    cr_assert(rest, "%s", s);
    cr_assert_str_eq(rest, " warn gen: gen_summary events=5 topic=a.b why=\"two words\" empty=\"\" "
                           "q=\"say \\\"hi\\\"\" parts=[0,1,2] expect.applied=4 expect.late=1 "
                           "none=null\n");
    free(s);
}

static void always(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_log_set_level(RR_LOG_ERROR);
    cr_assert(!rr_log_enabled(RR_LOG_INFO));
    cr_assert(rr_log_enabled(RR_LOG_SUMMARY | RR_LOG_INFO));
    rr_log_event(RR_LOG_INFO, "run", "progress", "\"input\":1");
    rr_log_event(RR_LOG_SUMMARY | RR_LOG_INFO, "run", "summary", "\"input\":1,\"status\":0");
    rr_log_set_level(RR_LOG_INFO);
}

Test(log, a_summary_is_written_whatever_the_threshold_as_json_in_text_format)
{
    char *s = captured(always);
    cr_assert_eq(lines(s), 1, "%s", s);
    cr_assert_eq(strncmp(s, "{\"type\":\"summary\",\"ts\":\"", 24), 0, "%s", s);
    cr_assert(strstr(s, "\",\"level\":\"info\",\"component\":\"run\",\"input\":1,\"status\":0}\n"),
              "%s", s);
    free(s);
}

static void too_many_fields(void)
{
    static char big[10000];
    memset(big, 'x', sizeof big - 1);
    rr_log_set_format(RR_LOG_JSON);
    rr_log_event(RR_LOG_INFO, "run", "assigned", "\"what\":\"%s\"", big);
    rr_log_set_format(RR_LOG_TEXT);
}

Test(log, fields_too_long_are_replaced_so_the_line_still_parses)
{
    char *s = captured(too_many_fields);
    cr_assert_eq(lines(s), 1, "%s", s);
    cr_assert(strstr(s, "\"component\":\"run\",\"truncated\":true}\n"), "%s", s);
    free(s);
}

static void text_message_with_newline(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_log(RR_LOG_WARN, "kafka", "two\nlines");
}

Test(log, a_text_message_stays_one_line)
{
    char *s = captured(text_message_with_newline);
    cr_assert_eq(lines(s), 1, "%s", s);
    cr_assert(strstr(s, " warn kafka: two lines\n"), "%s", s);
    free(s);
}

/* ---- the status line, on a pseudo-terminal ---- */

/* What fn() wrote on stderr when stderr is a terminal, in a malloc'd
 * string (the terminal raw: bytes as written). */
static char *on_terminal(void (*fn)(void))
{
    int master, slave;
    cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    struct termios t;
    tcgetattr(slave, &t);
    cfmakeraw(&t);
    tcsetattr(slave, TCSANOW, &t);
    setenv("TERM", "xterm", 1);
    int saved = dup(STDERR_FILENO);
    dup2(slave, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(slave);
    char *buf = calloc(1, 65536);
    size_t n = 0;
    fcntl(master, F_SETFL, O_NONBLOCK);
    for (ssize_t r; n < 65535 && (r = read(master, buf + n, 65535 - n)) > 0;)
        n += (size_t)r;
    close(master);
    return buf;
}

static void status_around_a_line(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    cr_assert(rr_log_status_capable());
    rr_log_status("12 events");
    rr_log(RR_LOG_WARN, "run", "a warning");
    rr_log_status("15 events");
    rr_log_status(NULL);
    rr_log_status(NULL); /* nothing shown: nothing to erase */
    rr_log(RR_LOG_WARN, "run", "after");
}

/* s with every timestamp (2026-12-06T20:55:01.123Z) as "TS", in place. */
static char *untimed(char *s)
{
    char *o = s;
    for (const char *p = s; *p;) {
        int y, mo, d, h, mi, sec, ms, k = 0;
        if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &sec, &ms, &k) == 7 &&
            k == 24) {
            memcpy(o, "TS", 2);
            o += 2;
            p += k;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return s;
}

Test(log, the_status_line_is_erased_before_a_line_and_drawn_again_after_it)
{
    char *s = untimed(on_terminal(status_around_a_line));
    cr_assert_str_eq(s, "\r12 events\033[K"                /* drawn */
                        "\r\033[KTS warn run: a warning\n" /* erased, the line */
                        "12 events"                        /* drawn again below it */
                        "\r15 events\033[K"                /* redrawn */
                        "\r\033[K"                         /* erased, once */
                        "TS warn run: after\n");           /* nothing to erase */
    free(s);
}

static void status_in_json(void)
{
    rr_log_set_format(RR_LOG_JSON);
    cr_assert(!rr_log_status_capable());
    rr_log_status("12 events");
    rr_log(RR_LOG_WARN, "run", "a warning");
    rr_log_set_format(RR_LOG_TEXT);
}

Test(log, json_on_a_terminal_draws_no_status_line)
{
    char *s = on_terminal(status_in_json);
    cr_assert_eq(s[0], '{', "%s", s);
    cr_assert_null(strchr(s, '\r'), "%s", s);
    free(s);
}

static void status_not_a_terminal(void)
{
    cr_assert(!rr_log_status_capable());
    rr_log_status("12 events");
    rr_log(RR_LOG_WARN, "run", "a warning");
}

Test(log, a_file_gets_no_status_line)
{
    char *s = captured(status_not_a_terminal);
    cr_assert_eq(lines(s), 1, "%s", s);
    cr_assert_null(strchr(s, '\r'), "%s", s);
    free(s);
}

static void signal_lines(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_log_status("12 events");
    rr_log_signal_safe(RR_LOG_ERROR, "cli", "stopped \"now\"");
    rr_log_set_format(RR_LOG_JSON);
    rr_log_signal_safe(RR_LOG_ERROR, "cli", "stopped \"now\"");
    rr_log_set_format(RR_LOG_TEXT);
    rr_log_status(NULL);
}

Test(log, the_signal_safe_line_erases_the_status_line_and_keeps_the_format)
{
    char *s = untimed(on_terminal(signal_lines));
    cr_assert_str_eq(s, "\r12 events\033[K"
                        "\r\033[KTS error cli: stopped \"now\"\n"
                        "\r\033[K{\"type\":\"log\",\"ts\":\"TS\",\"level\":\"error\",\"component\":"
                        "\"cli\",\"msg\":\"stopped \\\"now\\\"\"}\n"
                        "\r\033[K");
    free(s);
}

static void signal_ts_matches(void)
{
    rr_log_set_format(RR_LOG_TEXT);
    rr_log(RR_LOG_INFO, "run", "a");
    rr_log_signal_safe(RR_LOG_INFO, "run", "b");
}

Test(log, the_signal_safe_timestamp_is_the_calendar_one)
{
    char *s = captured(signal_ts_matches);
    cr_assert_eq(lines(s), 2, "%s", s);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char day[16];
    strftime(day, sizeof day, "%Y-%m-%dT", &tm);
    cr_assert(!strncmp(s, day, 11) && !strncmp(strchr(s, '\n') + 1, day, 11), "%s vs %s", s, day);
    free(s);
}
