/* Tests for io/sha256: the FIPS 180-2 test vectors, and files against the
 * sha256sum tool. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/sha256.h"

static const char *hex_of(const void *p, size_t n)
{
    static char hex[RR_SHA256_HEX_LEN];
    uint8_t d[RR_SHA256_LEN];
    cr_assert_eq(rr_sha256(p, n, d), 0);
    rr_sha256_hex(d, hex);
    return hex;
}

Test(sha256, fips_180_2_vectors)
{
    cr_assert_str_eq(hex_of("", 0),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cr_assert_str_eq(hex_of("abc", 3),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    cr_assert_str_eq(hex_of(two, strlen(two)),
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    cr_assert_str_eq(hex_of(million, 1000000),
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

Test(sha256, a_file_longer_than_one_read_matches_sha256sum)
{
    char path[] = "/tmp/rr_sha256_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    size_t n = 3 * (1u << 20) + 4321;
    uint8_t *buf = malloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    close(fd);
    uint8_t d[RR_SHA256_LEN];
    uint64_t bytes = 0;
    char err[256], hex[RR_SHA256_HEX_LEN], want[65] = "", cmd[300];
    cr_assert_eq(rr_sha256_file(path, d, &bytes, err, sizeof err), 0, "%s", err);
    cr_assert_eq(bytes, n);
    rr_sha256_hex(d, hex);
    snprintf(cmd, sizeof cmd, "sha256sum %s", path);
    FILE *f = popen(cmd, "r");
    cr_assert_eq(fscanf(f, "%64s", want), 1);
    pclose(f);
    cr_assert_str_eq(hex, want);
    cr_assert_str_eq(hex, hex_of(buf, n));
    unlink(path);
    free(buf);
}

Test(sha256, a_missing_file_is_named)
{
    uint8_t d[RR_SHA256_LEN];
    char err[256] = "";
    cr_assert_eq(rr_sha256_file("/nonexistent/x.jsonl", d, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "/nonexistent/x.jsonl"), "%s", err);
}
