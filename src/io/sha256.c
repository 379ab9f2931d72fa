/* io/sha256.c: SHA-256 through libcrypto's EVP interface (see sha256.h). */
#include "io/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define CHUNK (1u << 20)

int rr_sha256(const void *p, size_t n, uint8_t out[RR_SHA256_LEN])
{
    unsigned int len = 0;
    return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == RR_SHA256_LEN ? 0 : -1;
}

int rr_sha256_fd(int fd, const char *name, uint8_t out[RR_SHA256_LEN], uint64_t *bytes,
                 char *errstr, size_t errstr_size)
{
    int rc = -1;
    uint64_t at = 0;
    unsigned int len = 0;
    uint8_t *buf = malloc(CHUNK);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!buf || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        snprintf(errstr, errstr_size, "%s: sha256: out of memory", name);
        goto out;
    }
    for (;;) {
        ssize_t r = pread(fd, buf, CHUNK, (off_t)at);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(errstr, errstr_size, "%s: reading back for sha256: %s", name, strerror(errno));
            goto out;
        }
        if (r == 0) break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1) {
            snprintf(errstr, errstr_size, "%s: sha256 failed", name);
            goto out;
        }
        at += (uint64_t)r;
    }
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != RR_SHA256_LEN) {
        snprintf(errstr, errstr_size, "%s: sha256 failed", name);
        goto out;
    }
    if (bytes) *bytes = at;
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

int rr_sha256_file(const char *path, uint8_t out[RR_SHA256_LEN], uint64_t *bytes, char *errstr,
                   size_t errstr_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int rc = rr_sha256_fd(fd, path, out, bytes, errstr, errstr_size);
    close(fd);
    return rc;
}

void rr_sha256_hex(const uint8_t digest[RR_SHA256_LEN], char hex[RR_SHA256_HEX_LEN])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < RR_SHA256_LEN; i++) {
        hex[2 * i] = d[digest[i] >> 4];
        hex[2 * i + 1] = d[digest[i] & 15];
    }
    hex[2 * RR_SHA256_LEN] = '\0';
}
