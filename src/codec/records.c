/* codec/records.c: the rules the encodings of result records share. */
#include "codec/records.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t rr_records_n_metrics(const rr_day_record_t *r)
{
    if (!r->cfg || !r->values) return 0;
    return r->cfg->n_metrics < RR_MAX_METRICS ? r->cfg->n_metrics : RR_MAX_METRICS;
}

int rr_records_metric_shown(const rr_day_record_t *r, size_t i)
{
    const rr_value_t *v = &r->values[i];
    if (v->den == 0 && v->unanswered == 0) return 0;
    return !r->is_agent || rr_metric_kind_per_agent(r->cfg->metrics[i].kind);
}

int rr_records_metric_has_buckets(const rr_day_record_t *r, size_t i)
{
    return r->cfg->metrics[i].kind == RR_KIND_RESPONSE_TIME;
}

const char *rr_records_reason_name(rr_reason_t reason)
{
    switch (reason) {
    case RR_REASON_LATE:
        return "late";
    case RR_REASON_NO_REPLY:
        return "no_reply";
    case RR_REASON_UNASSIGNED:
        return "unassigned";
    }
    return "unspecified";
}

const char *rr_records_event_type_name(uint32_t type)
{
    return type >= 1 && type <= 10 ? rr_event_type_name(type) : NULL;
}

size_t rr_records_fmt_double(char *p, double v)
{
    const size_t size = RR_RECORDS_DOUBLE_MAX;
    if (!isfinite(v)) {
        p[0] = '\0';
        return 0;
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(p, size, "%.*g", prec, v);
        for (int i = 0; i < n; i++) /* a decimal-comma locale must not leak into JSON */
            if (p[i] == ',') p[i] = '.';
        if (strtod(p, NULL) == v) break;
    }
    if (n > 0 && (size_t)n + 2 < size && !strpbrk(p, ".eE")) {
        memcpy(p + n, ".0", 3);
        n += 2;
    }
    return n > 0 ? (size_t)n : 0;
}
