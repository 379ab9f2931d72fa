/* io/sha256.h: SHA-256 of memory and of files, for the run manifest
 * (io/manifest.h): the hash of the effective configuration and of every
 * published output.
 *
 * A thin layer over OpenSSL's libcrypto (EVP), which librdkafka already
 * links: hardware-accelerated (SHA-NI, AVX2) where the CPU has it, and
 * nothing of our own to get wrong. Digests are 32 bytes; rr_sha256_hex
 * writes the 64 lowercase hex digits sha256sum prints.
 *
 * No state is kept between calls: every function is thread-safe and
 * borrows its arguments for the call only.
 * Layer: io; uses libcrypto.
 */
#ifndef RR_IO_SHA256_H
#define RR_IO_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define RR_SHA256_LEN 32
#define RR_SHA256_HEX_LEN 65 /* 64 digits and the NUL */

/* The digest of n bytes at p into out. 0, or -1 when libcrypto fails (out
 * of memory). */
int rr_sha256(const void *p, size_t n, uint8_t out[RR_SHA256_LEN]);

/* The digest of the whole file open at fd, read with pread(2) from offset 0
 * to its end (the file offset is left alone), and its length in *bytes (may
 * be NULL). name is for messages only. 0, or -1 with errstr naming the file
 * and the error. */
int rr_sha256_fd(int fd, const char *name, uint8_t out[RR_SHA256_LEN], uint64_t *bytes,
                 char *errstr, size_t errstr_size);

/* The same for the file at path. */
int rr_sha256_file(const char *path, uint8_t out[RR_SHA256_LEN], uint64_t *bytes, char *errstr,
                   size_t errstr_size);

/* 64 lowercase hex digits and a NUL into hex. */
void rr_sha256_hex(const uint8_t digest[RR_SHA256_LEN], char hex[RR_SHA256_HEX_LEN]);

#endif
