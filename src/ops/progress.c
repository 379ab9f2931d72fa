/* ops/progress.c: progress lines on stderr (see progress.h). */
#include "ops/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* line[0..len) and a newline, in one write(2) (cut short if too long). */
static void put_line(char *line, size_t size, int len)
{
    if (len < 0) return;
    size_t n = (size_t)len < size - 1 ? (size_t)len : size - 2;
    line[n++] = '\n';
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, line + off, n - off);
        if (w <= 0) return;
        off += (size_t)w;
    }
}

void rr_progress_print(uint64_t input, double elapsed_s, uint64_t open_convs, uint64_t open_days)
{
    char line[512];
    int len = snprintf(line, sizeof line,
                       "{\"type\":\"progress\",\"input\":%llu,\"events_per_s\":%.0f,"
                       "\"open_conversations\":%llu,\"open_days\":%llu}",
                       (unsigned long long)input, elapsed_s > 0 ? (double)input / elapsed_s : 0.0,
                       (unsigned long long)open_convs, (unsigned long long)open_days);
    put_line(line, sizeof line, len);
}

void rr_progress_event(const char *fmt, ...)
{
    char line[4608];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    put_line(line, sizeof line, len);
}
