/* base/strbuf.h: a growing text buffer written with printf formats, for
 * documents rendered whole (the run manifest, the report page).
 *
 * Running out of memory is sticky: the first failure sets oom, later writes
 * do nothing, and the caller checks oom once at the end. The buffer is
 * NUL-terminated after any successful write. Owns p (free it). One thread
 * per buffer. Layer: base (libc only).
 */
#ifndef RR_BASE_STRBUF_H
#define RR_BASE_STRBUF_H

#include <stddef.h>

typedef struct rr_strbuf {
    char *p;
    size_t len, cap;
    int oom;
} rr_strbuf_t;

/* Append the formatted text, growing the buffer as needed. */
void rr_strbuf_printf(rr_strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
