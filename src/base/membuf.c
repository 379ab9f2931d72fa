#include "base/membuf.h"

#include <stdlib.h>
#include <string.h>

int rr_membuf_write(void *arg, const void *p, size_t n)
{
    rr_membuf_t *b = arg;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (n > cap - b->n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

int rr_membuf_read(void *arg, void *p, size_t n)
{
    rr_membuf_t *b = arg;
    if (n > b->n - b->pos) return -1;
    memcpy(p, b->p + b->pos, n);
    b->pos += n;
    return 0;
}

void rr_membuf_free(rr_membuf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = b->pos = 0;
}
