/* pipeline/summary.c: the summary line (see summary.h). */
#include "pipeline/summary.h"

#include <stdio.h>

#include "ops/stop.h"

int rr_summary_format(const rr_outcome_t *o, char *buf, size_t size)
{
    const rr_stats_t *st = &o->stats;
    double el = o->seconds;
    int len = snprintf(
        buf, size,
        "\"input\":%llu,\"applied\":%llu,\"duplicate\":%llu,"
        "\"late\":%llu,\"invalid\":%llu,\"held\":%llu,\"shop_days\":%llu,\"agent_days\":%llu,"
        "\"violations\":%llu,\"alerts\":%llu,\"peak_open_conversations\":%llu,"
        "\"peak_active_conversations\":%llu,"
        "\"evicted_conversations\":%llu,\"shops_in_several_partitions\":%llu,"
        "\"seconds\":%.3f,\"events_per_s\":%.0f,\"unread_bytes\":%llu,"
        "\"skipped_bytes\":%llu,\"missing_records\":%llu,\"status\":%d",
        (unsigned long long)st->input, (unsigned long long)st->applied,
        (unsigned long long)st->duplicate, (unsigned long long)st->late,
        (unsigned long long)st->invalid, (unsigned long long)st->held,
        (unsigned long long)st->shop_days, (unsigned long long)st->agent_days,
        (unsigned long long)st->violations, (unsigned long long)st->alerts,
        (unsigned long long)st->peak_open_conversations,
        (unsigned long long)st->peak_active_conversations,
        (unsigned long long)st->evicted_conversations,
        (unsigned long long)st->shops_in_several_partitions, el,
        el > 0 ? (double)st->input / el : 0.0, (unsigned long long)o->unread_bytes,
        (unsigned long long)o->skipped_bytes, (unsigned long long)o->missing_records, o->status);
    size_t at = len < 0 ? 0 : (size_t)len;
    if (o->reason && at < size)
        at += (size_t)snprintf(buf + at, size - at, ",\"reason\":\"%s\"", o->reason);
    if (o->signo && at < size)
        at += (size_t)snprintf(buf + at, size - at, ",\"signal\":\"%s\"",
                               rr_stop_signal_name(o->signo));
    return (int)at;
}
