/* Tests for ops/log: the threshold, the text and JSON forms, escaping, and
 * that a line is always one line. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
