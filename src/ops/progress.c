#include "ops/progress.h"

#include <stdio.h>

void rr_progress_print(uint64_t input, double elapsed_s, uint64_t open_convs, uint64_t open_days)
{
    fprintf(stderr,
            "{\"type\":\"progress\",\"input\":%llu,\"events_per_s\":%.0f,"
            "\"open_conversations\":%llu,\"open_days\":%llu}\n",
            (unsigned long long)input, elapsed_s > 0 ? (double)input / elapsed_s : 0.0,
            (unsigned long long)open_convs, (unsigned long long)open_days);
}
