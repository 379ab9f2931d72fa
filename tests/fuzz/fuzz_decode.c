/* fuzz_decode: libFuzzer target holding codec/decode against protobuf-c.
 *
 * The input is decoded as one ChatEvent by rr_decode_event() and by
 * protobuf-c 1.4.1's replyrate__v1__chat_event__unpack(); any difference in
 * the verdict or in a field value aborts. The same bytes are then framed as
 * a delimited stream, whole (eof) and byte by byte (!eof), and the framer's
 * invariants are checked: records tile the input exactly, both ways agree,
 * and a terminal record covers the rest.
 *
 * Build: cmake -DRR_FUZZ=ON with clang, or by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Iinclude -Ibuild/proto \
 *     tests/fuzz/fuzz_decode.c src/codec/decode.c build/proto/replyrate/v1/chat_event.pb-c.c \
 *     -lprotobuf-c -o fuzz_decode
 *   ./fuzz_decode tests/fuzz/corpus/decode
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/decode.h"
#include "replyrate/v1/chat_event.pb-c.h"

static void check_decode_with(const uint8_t *data, size_t size)
{
    rr_event_t e;
    int r = rr_decode_event(data, size, &e);
    Replyrate__V1__ChatEvent *m = replyrate__v1__chat_event__unpack(NULL, size, data);

    if ((m != NULL) != (r == RR_DECODE_OK)) {
        fprintf(stderr, "verdict differs: protobuf-c %s, rr_decode_event %s\n",
                m ? "accepts" : "rejects", rr_decode_strerror(r));
        abort();
    }
    if (r < 0 || r > RR_DECODE_TOO_MANY_FIELDS) abort();
    if (m) {
        if (m->event_id != e.event_id || m->shop_id != e.shop_id ||
            m->conversation_id != e.conversation_id || m->buyer_id != e.buyer_id ||
            m->agent_id != e.agent_id || m->ts_ms != e.ts_ms || (uint32_t)m->type != e.type ||
            m->content != e.content || m->rating != e.rating || m->flags != e.flags) {
            fprintf(stderr, "field values differ\n");
            abort();
        }
        replyrate__v1__chat_event__free_unpacked(m, NULL);
    }
}

/* Both forms of the fast path (where this CPU has pext) against protobuf-c. */
static void check_decode(const uint8_t *data, size_t size)
{
    rr_decode_select(RR_DECODE_IMPL_PORTABLE);
    check_decode_with(data, size);
    if (rr_decode_select(RR_DECODE_IMPL_PEXT) == 0) check_decode_with(data, size);
}

/* Frame the whole input with eof; returns the number of OK records. */
static size_t frame_whole(const uint8_t *data, size_t size, size_t *ends, size_t max_ends)
{
    size_t pos = 0, n = 0;
    for (;;) {
        const uint8_t *msg = NULL;
        size_t len = 0, before = pos;
        int st = rr_frame_next(data, size, 1, &pos, &msg, &len);
        if (st == RR_FRAME_END) {
            if (pos != size) abort();
            return n;
        }
        if (st == RR_FRAME_NEED_MORE) abort(); /* never with eof */
        if (st == RR_FRAME_BROKEN || st == RR_FRAME_PAST_END) {
            if (msg != data + before || len != size - before || pos != size) abort();
            st = rr_frame_next(data, size, 1, &pos, &msg, &len);
            if (st != RR_FRAME_END) abort();
            return n;
        }
        if (st != RR_FRAME_OK || pos <= before || msg < data + before || msg + len != data + pos)
            abort();
        if (n < max_ends) ends[n] = pos;
        n++;
    }
}

/* Feed the stream one byte more at a time without eof: every OK record
 * must come out at the same place as when framed whole. */
static void frame_incremental(const uint8_t *data, size_t size, const size_t *ends, size_t n_ok)
{
    size_t pos = 0, k = 0;
    for (size_t avail = 0; avail <= size; avail++) {
        for (;;) {
            const uint8_t *msg;
            size_t len, before = pos;
            int st = rr_frame_next(data, avail, 0, &pos, &msg, &len);
            if (st == RR_FRAME_NEED_MORE) {
                if (pos != before) abort();
                break;
            }
            if (st == RR_FRAME_OK) {
                if (k >= n_ok || pos != ends[k]) abort();
                k++;
                continue;
            }
            if (st == RR_FRAME_BROKEN) /* prefix > 10 bytes: terminal without eof */
                return;
            abort(); /* END and PAST_END need eof */
        }
    }
    if (k != n_ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t ends[512];
    check_decode(data, size);
    if (size <= 4096) {
        size_t n = frame_whole(data, size, ends, sizeof ends / sizeof ends[0]);
        if (n <= sizeof ends / sizeof ends[0]) frame_incremental(data, size, ends, n);
    }
    return 0;
}
