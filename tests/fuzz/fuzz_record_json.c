/* fuzz_record_json: libFuzzer target for codec/record_json_read, the reader
 * of JSON values `replyrate export` takes from Kafka (any bytes a topic may
 * hold).
 *
 * The input is read with scratch of exactly its length (the header's
 * promise: a sanitizer sees any byte past it). When it reads as a record,
 * that record is written with codec/record_json, the line read again and
 * written again: the two lines must be equal (what the writer writes, the
 * reader reads back to the same JSON).
 *
 * Build: cmake -DRR_FUZZ=ON with clang (tests/fuzz/run.sh), then
 *   ./build-fuzz/fuzz_record_json tests/fuzz/corpus/record_json
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/record_json.h"
#include "codec/record_json_read.h"

static rr_record_json_in_t in;

/* What was read, written as a JSON line into a fresh buffer (*len). */
static char *write_back(size_t *len)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        switch (in.kind) {
        case RR_RECORD_JSON_SHOP_DAY:
        case RR_RECORD_JSON_AGENT_DAY:
            n = rr_record_json_day(buf, cap, &in.day);
            break;
        case RR_RECORD_JSON_VIOLATION:
            n = rr_record_json_violation(buf, cap, &in.violation);
            break;
        case RR_RECORD_JSON_ALERT:
            n = rr_record_json_alert(buf, cap, &in.alert);
            break;
        default:
            n = rr_record_json_rejected(buf, cap, &in.rejected);
        }
        if (n <= cap) break;
        cap = n;
        buf = realloc(buf, cap);
        if (!buf) abort();
    }
    *len = n;
    return buf;
}

static char *read_exact(const char *data, size_t size, int *ok)
{
    char err[256];
    char *scratch = malloc(size ? size : 1);
    if (!scratch) abort();
    *ok = rr_record_json_read(data, size, scratch, size, &in, err, sizeof err) == 0;
    return scratch;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int ok;
    char *scratch = read_exact((const char *)data, size, &ok);
    if (ok) {
        size_t n1, n2;
        char *line = write_back(&n1);
        char *scratch2 = read_exact(line, n1, &ok);
        if (!ok) {
            fprintf(stderr, "the writer's line does not read back: %.*s", (int)n1, line);
            abort();
        }
        char *again = write_back(&n2);
        if (n1 != n2 || memcmp(line, again, n1)) {
            fprintf(stderr, "written back differently:\n%.*s%.*s", (int)n1, line, (int)n2, again);
            abort();
        }
        free(again);
        free(scratch2);
        free(line);
    }
    free(scratch);
    return 0;
}
