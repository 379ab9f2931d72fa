/* ops/progress.c: a run's progress, as a status line or as events (see
 * progress.h). */
#include "ops/progress.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "ops/log.h"

#define STATUS_EVERY_S 0.25
#define RATE_WINDOW_S 1.0

static double interval_s = 5;

void rr_progress_set_interval(double seconds)
{
    if (seconds > 0) interval_s = seconds;
}

double rr_progress_interval(void)
{
    return interval_s;
}

void rr_progress_init(rr_progress_t *p, int quiet, int bounded, uint64_t total, const char *unit)
{
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->bounded = bounded;
    p->total = total;
    p->unit = unit ? unit : "";
    p->t0 = p->window_t = rr_mono_s();
    /* decided once: the terminal does not come and go during a run */
    p->status = !quiet && bounded && rr_log_status_capable();
    p->next_status = p->t0; /* drawn at once: even a short run shows it ran */
    p->next_event = p->t0 + interval_s;
}

int rr_progress_due(const rr_progress_t *p)
{
    return !p->quiet && rr_mono_s() >= (p->status ? p->next_status : p->next_event);
}

/* n with 3 significant digits and k, M, G, T (exact below 10000), then
 * unit: "1.21M", "251 MB". */
static const char *human(char *buf, size_t size, double n, const char *unit)
{
    static const char *sfx[] = {"", "k", "M", "G", "T"};
    const char *sep = *unit ? " " : "";
    int i = 0;
    if (n < 10000) {
        snprintf(buf, size, "%.0f%s%s", n, sep, unit);
        return buf;
    }
    while (n >= 1000 && i < 4) {
        n /= 1000;
        i++;
    }
    snprintf(buf, size, "%.*f%s%s%s", n < 10 ? 2 : n < 100 ? 1 : 0, n, sep, sfx[i], unit);
    return buf;
}

/* "0:07", "1:02:03", or "-:--" when unknown (s < 0). */
static const char *clock_text(char *buf, size_t size, double s)
{
    if (s < 0) {
        snprintf(buf, size, "-:--");
        return buf;
    }
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%lu:%02lu", t / 60, t % 60);
    return buf;
}

/* The share done in percent (capped at 100), and the seconds left at the
 * pace so far (-1: not known yet). */
static double percent(const rr_progress_t *p, uint64_t done)
{
    double f = (double)done / (double)p->total;
    return 100 * (f > 1 ? 1 : f);
}

static double seconds_left(const rr_progress_t *p, uint64_t done, double elapsed)
{
    if (!p->total || !done || elapsed < 1) return -1;
    if (done >= p->total) return 0;
    return elapsed * (double)(p->total - done) / (double)done;
}

static void draw(rr_progress_t *p, uint64_t input, uint64_t done, double now)
{
    if (now - p->window_t >= RATE_WINDOW_S) {
        p->rate = (double)(input - p->window_input) / (now - p->window_t);
        p->window_t = now;
        p->window_input = input;
    } else if (p->rate == 0 && now > p->t0) {
        p->rate = (double)input / (now - p->t0); /* the first second */
    }
    char line[256], a[32], b[32], c[32], d[32];
    int n = snprintf(line, sizeof line, "%s events  %s events/s",
                     human(a, sizeof a, (double)input, ""), human(b, sizeof b, p->rate, ""));
    if (p->total && n > 0 && (size_t)n < sizeof line) {
        int bytes = !strcmp(p->unit, "bytes");
        snprintf(line + n, sizeof line - (size_t)n, "  %.1f%% of %s%s%s  %s left", percent(p, done),
                 human(c, sizeof c, (double)p->total, bytes ? "B" : ""), bytes ? "" : " ",
                 bytes ? "" : p->unit, clock_text(d, sizeof d, seconds_left(p, done, now - p->t0)));
    }
    rr_log_status(line);
}

static void event(const rr_progress_t *p, uint64_t input, uint64_t done, uint64_t open_convs,
                  uint64_t open_days, double now)
{
    double el = now - p->t0;
    char extra[96] = "";
    if (p->total) {
        double left = seconds_left(p, done, el);
        int n = snprintf(extra, sizeof extra, ",\"percent\":%.1f", percent(p, done));
        if (left >= 0 && n > 0)
            snprintf(extra + n, sizeof extra - (size_t)n, ",\"seconds_left\":%.0f", left);
    }
    rr_log_event(RR_LOG_INFO, "run", "progress",
                 "\"input\":%llu,\"events_per_s\":%.0f,\"open_conversations\":%llu,"
                 "\"open_days\":%llu%s",
                 (unsigned long long)input, el > 0 ? (double)input / el : 0.0,
                 (unsigned long long)open_convs, (unsigned long long)open_days, extra);
}

void rr_progress_update(rr_progress_t *p, uint64_t input, uint64_t done, uint64_t open_convs,
                        uint64_t open_days)
{
    if (p->quiet) return;
    double now = rr_mono_s();
    if (p->status && now >= p->next_status) {
        draw(p, input, done, now);
        p->next_status = now + STATUS_EVERY_S;
    } else if (!p->status && now >= p->next_event) {
        event(p, input, done, open_convs, open_days, now);
        /* on the grid from the start, skipping what a long batch missed */
        while (p->next_event <= now)
            p->next_event += interval_s;
    }
}

void rr_progress_finish(rr_progress_t *p)
{
    if (p->status) rr_log_status(NULL);
    p->quiet = 1; /* nothing after the end */
}
