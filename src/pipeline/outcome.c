/* pipeline/outcome.c: exit status, gates and the summary line (see outcome.h). */
#include "pipeline/outcome.h"

#include <stdio.h>
#include <stdlib.h>

void rr_gates_default(rr_gates_t *g)
{
    g->allow_empty = 0;
    g->allow_incomplete = 0;
    g->max_invalid_ratio = RR_GATE_DEFAULT_MAX_INVALID_RATIO;
}

int rr_gates_parse_ratio(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= 0 && v <= 1)) return -1;
    *out = v;
    return 0;
}

int rr_outcome_judge(rr_outcome_t *o, const rr_gates_t *g, const char *inputs, char *errstr,
                     size_t errstr_size)
{
    const rr_stats_t *s = &o->stats;
    o->status = 0;
    o->reason = NULL;
    if ((o->unread_bytes || o->missing_records) && !g->allow_incomplete) {
        o->status = 3;
        o->reason = "incomplete_input";
        snprintf(errstr, errstr_size,
                 "%s: incomplete input: %llu bytes unread, %llu records missing; nothing "
                 "published (--allow-incomplete publishes it, counting what is missing)",
                 inputs, (unsigned long long)o->unread_bytes,
                 (unsigned long long)o->missing_records);
    } else if (s->applied == 0 && !g->allow_empty) {
        o->status = 4;
        o->reason = "empty_input";
        snprintf(errstr, errstr_size,
                 "%s: empty input: no event applied (%llu read: %llu invalid, %llu late, %llu "
                 "duplicate); nothing published (--allow-empty accepts an empty run)",
                 inputs, (unsigned long long)s->input, (unsigned long long)s->invalid,
                 (unsigned long long)s->late, (unsigned long long)s->duplicate);
    } else if (s->input >= RR_GATE_MIN_INPUT && g->max_invalid_ratio < 1 &&
               (double)s->invalid > g->max_invalid_ratio * (double)s->input) {
        o->status = 5;
        o->reason = "invalid_ratio";
        snprintf(errstr, errstr_size,
                 "%s: %llu of %llu events invalid (%.2f%%), above --max-invalid-ratio %g; "
                 "nothing published (a larger --max-invalid-ratio accepts it; --dead-letter "
                 "FILE keeps each invalid event with its reason)",
                 inputs, (unsigned long long)s->invalid, (unsigned long long)s->input,
                 100.0 * (double)s->invalid / (double)s->input, g->max_invalid_ratio);
    }
    return o->status;
}

void rr_outcome_error(rr_outcome_t *o)
{
    if (o->signo) return;
    o->status = 1;
    o->reason = "error";
}

void rr_outcome_stopped(rr_outcome_t *o, int signo)
{
    o->signo = signo;
    o->status = 128 + signo;
    o->reason = "signal";
}
