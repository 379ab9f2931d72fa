/* Tests for report/csv: the strict reader of the run's CSV files, its typed
 * getters, zstd, and that no input, however damaged, crashes it or goes
 * unnamed (a fuzz-ish mutation loop). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "report/csv.h"
#include "support/rng.h"

static char err[512];

static rr_csv_t *open_text(const char *text)
{
    rr_csv_t *c = NULL;
    cr_assert_eq(rr_csv_open_mem("t.csv", text, strlen(text), 0, &c, err, sizeof err), 0, "%s",
                 err);
    return c;
}

/* Read every row; -1 with err, or the number of rows. */
static long drain(rr_csv_t *c)
{
    long n = 0;
    int r;
    while ((r = rr_csv_next(c, err, sizeof err)) == 1)
        n++;
    return r < 0 ? -1 : n;
}

/* The error a text gives (opening or reading). */
static const char *error_of(const char *text)
{
    rr_csv_t *c = NULL;
    err[0] = '\0';
    if (rr_csv_open_mem("t.csv", text, strlen(text), 0, &c, err, sizeof err) == 0) {
        long n = drain(c);
        rr_csv_close(c);
        cr_assert_eq(n, -1, "no error for %s", text);
    }
    return err;
}

Test(report_csv, quoted_fields_hold_commas_quotes_and_line_ends)
{
    rr_csv_t *c = open_text("a,version,b\n1,\"m2,\"\"x\"\"\ny\",\n\"\",plain,\"3\"\n");
    cr_assert_eq(rr_csv_columns(c), 3);
    cr_assert_eq(rr_csv_column(c, "version"), 1);
    cr_assert_eq(rr_csv_column(c, "nope"), -1);
    cr_assert_str_eq(rr_csv_header(c, 2), "b");
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 1, "%s", err);
    size_t len;
    cr_assert_str_eq(rr_csv_field(c, 0, &len, NULL), "1");
    cr_assert_str_eq(rr_csv_field(c, 1, &len, NULL), "m2,\"x\"\ny");
    cr_assert_eq(len, 8);
    cr_assert_str_eq(rr_csv_field(c, 2, &len, NULL), "");
    cr_assert_eq(rr_csv_line(c), 2);
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 1, "%s", err);
    cr_assert_eq(rr_csv_line(c), 4, "the quoted line end counts as a line");
    cr_assert_str_eq(rr_csv_field(c, 0, NULL, NULL), "");
    cr_assert_str_eq(rr_csv_field(c, 2, NULL, NULL), "3");
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 0);
    cr_assert_eq(rr_csv_rows(c), 2);
    rr_csv_close(c);
}

Test(report_csv, an_empty_file_has_no_header_and_no_rows)
{
    rr_csv_t *c = open_text("");
    cr_assert_eq(rr_csv_columns(c), 0);
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 0);
    rr_csv_close(c);
    c = open_text("a,b\n");
    cr_assert_eq(rr_csv_columns(c), 2);
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 0);
    rr_csv_close(c);
}

Test(report_csv, crlf_line_ends_read_as_line_ends)
{
    rr_csv_t *c = open_text("a,b\r\n1,\"2\"\r\n");
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 1, "%s", err);
    cr_assert_str_eq(rr_csv_field(c, 1, NULL, NULL), "2");
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 0);
    rr_csv_close(c);
}

Test(report_csv, every_damage_is_named_with_file_and_line)
{
    cr_assert_str_eq(error_of("a,b\n1,2\n3,4"), "t.csv:3: the last row has no line end (file cut "
                                                "short?)");
    cr_assert_str_eq(
        error_of("a,b\n1,\"2\n\n"),
        "t.csv:2: a quoted field opened on line 2 is not closed at the end of the file "
        "(file cut short?)");
    cr_assert_str_eq(error_of("a,b\n1,2\n1,x\"y\n"), "t.csv:3: a quote inside an unquoted field");
    cr_assert_str_eq(error_of("a,b\n\"1\"x,2\n"),
                     "t.csv:2: 'x' after a closing quote (expected , or a line end)");
    cr_assert_str_eq(error_of("a,b\n1\r2,3\n"), "t.csv:2: a CR not followed by a line feed");
    cr_assert_str_eq(error_of("a,b\n1,2\n1,2,3\n"), "t.csv:3: 3 fields, the header has 2");
    cr_assert_str_eq(error_of("a,b\n1,2\n\n"), "t.csv:3: 1 field, the header has 2");
    cr_assert_str_eq(error_of("a,b\n1,2\nx\n"), "t.csv:3: 1 field, the header has 2");
    char nul[] = "a,b\n1,2\n3,4\n";
    nul[9] = '\0';
    rr_csv_t *c = NULL;
    cr_assert_eq(rr_csv_open_mem("t.csv", nul, sizeof nul - 1, 0, &c, err, sizeof err), 0);
    cr_assert_eq(drain(c), -1);
    cr_assert_str_eq(err, "t.csv:3: a NUL byte (not a text file?)");
    cr_assert_eq(rr_csv_next(c, err, sizeof err), -1, "a failed reader stays failed");
    rr_csv_close(c);
    /* too many fields in the header itself */
    char wide[2 * RR_CSV_MAX_FIELDS + 2];
    memset(wide, ',', sizeof wide - 2);
    wide[sizeof wide - 2] = '\n';
    wide[sizeof wide - 1] = '\0';
    c = NULL;
    cr_assert_eq(rr_csv_open_mem("w.csv", wide, strlen(wide), 0, &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "w.csv:1: more than 255 fields");
}

Test(report_csv, a_long_field_is_cut_and_its_getters_refuse_it)
{
    size_t big = RR_CSV_FIELD_KEEP + 10;
    char *text = malloc(big + 64);
    strcpy(text, "reason,raw_hex\nlate,");
    size_t n = strlen(text);
    memset(text + n, 'a', big);
    strcpy(text + n + big, "\n");
    rr_csv_t *c = open_text(text);
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 1, "%s", err);
    size_t len;
    int cut;
    rr_csv_field(c, 1, &len, &cut);
    cr_assert_eq(len, RR_CSV_FIELD_KEEP);
    cr_assert(cut);
    char s[16];
    cr_assert_eq(rr_csv_str(c, 0, s, sizeof s, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(s, "late", "the column read is whole");
    char *all = malloc(big + 1);
    cr_assert_eq(rr_csv_str(c, 1, all, big + 1, err, sizeof err), -1);
    cr_assert(strstr(err, "t.csv:2: column raw_hex: 'aaaa"), "%s", err);
    uint64_t v;
    cr_assert_eq(rr_csv_u64(c, 1, &v, err, sizeof err), -1);
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 0);
    rr_csv_close(c);
    free(all);
    free(text);
}

Test(report_csv, typed_getters_read_exactly_and_name_the_column)
{
    rr_csv_t *c = open_text("id,day,t,f,e\n"
                            "18446744073709551615,2026-11-22,2026-11-22T02:00:00.123Z,true,\n"
                            "18446744073709551616,2026-02-30,2026-11-22T24:00:00.000Z,yes,-1\n");
    uint64_t v = 7;
    int32_t day;
    int64_t ms;
    int b;
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 1);
    cr_assert_eq(rr_csv_u64(c, 0, &v, err, sizeof err), 0, "%s", err);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(rr_csv_day(c, 1, &day, err, sizeof err), 0, "%s", err);
    cr_assert_eq(day, 20779); /* 2026-11-22 */
    cr_assert_eq(rr_csv_utc_ms(c, 2, &ms, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ms, INT64_C(1795312800123));
    cr_assert_eq(rr_csv_bool(c, 3, &b, err, sizeof err), 0);
    cr_assert_eq(b, 1);
    cr_assert_eq(rr_csv_u64_opt(c, 4, &v, err, sizeof err), 1, "an empty cell");
    cr_assert_eq(v, UINT64_MAX, "untouched");
    cr_assert_eq(rr_csv_u64(c, 4, &v, err, sizeof err), -1);
    cr_assert_str_eq(err, "t.csv:2: column e: '' is empty, expected an unsigned 64-bit integer");
    cr_assert_eq(rr_csv_next(c, err, sizeof err), 1);
    cr_assert_eq(rr_csv_u64(c, 0, &v, err, sizeof err), -1, "2^64 overflows");
    cr_assert_str_eq(err, "t.csv:3: column id: '18446744073709551616' is not an unsigned 64-bit "
                          "integer");
    cr_assert_eq(rr_csv_day(c, 1, &day, err, sizeof err), -1);
    cr_assert_str_eq(err, "t.csv:3: column day: '2026-02-30' is not a date YYYY-MM-DD");
    cr_assert_eq(rr_csv_utc_ms(c, 2, &ms, err, sizeof err), -1);
    cr_assert_eq(rr_csv_bool(c, 3, &b, err, sizeof err), -1);
    cr_assert_eq(rr_csv_u64_opt(c, 4, &v, err, sizeof err), -1, "no sign");
    rr_csv_close(c);
    cr_assert_eq(rr_csv_parse_utc_ms("1970-01-01T00:00:01Z", 20, &ms), 0);
    cr_assert_eq(ms, 1000);
    cr_assert_eq(rr_csv_parse_utc_ms("1970-01-01T00:00:01.5Z", 22, &ms), -1);
    cr_assert_eq(rr_csv_parse_day("2028-02-29", 10, &day), 0, "a leap day");
    cr_assert_eq(rr_csv_parse_day("2026-1-22x", 10, &day), -1);
}

Test(report_csv, required_columns_are_named_when_missing)
{
    rr_csv_t *c = open_text("shop_id,day\n");
    static const char *const want[] = {"shop_id", "metric"};
    int idx[2];
    cr_assert_eq(rr_csv_require(c, want, idx, 2, err, sizeof err), -1);
    cr_assert_str_eq(err, "t.csv:1: the header has no column 'metric'");
    rr_csv_close(c);
}

Test(report_csv, zstd_reads_whole_and_a_cut_stream_is_an_error)
{
    const char *text = "a,b\n1,2\n3,\"4\"\n";
    size_t cap = ZSTD_compressBound(strlen(text));
    char *z = malloc(cap);
    size_t zn = ZSTD_compress(z, cap, text, strlen(text), 3);
    cr_assert(!ZSTD_isError(zn));
    rr_csv_t *c = NULL;
    cr_assert_eq(rr_csv_open_mem("t.csv.zst", z, zn, 1, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(drain(c), 2, "%s", err);
    rr_csv_close(c);
    cr_assert_eq(rr_csv_open_mem("t.csv.zst", z, zn - 3, 1, &c, err, sizeof err) == 0 &&
                     drain(c) >= 0,
                 0, "a cut frame reads as an error");
    cr_assert(strstr(err, "the zstd data ends inside a frame"), "%s", err);
    rr_csv_close(c);
    c = NULL;
    cr_assert_eq(rr_csv_open_mem("e.csv.zst", "", 0, 1, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(rr_csv_columns(c), 0, "an empty .zst is an empty file");
    rr_csv_close(c);
    cr_assert_eq(rr_csv_open_mem("g.csv.zst", "garbage!", 8, 1, &c, err, sizeof err), -1);
    cr_assert(strstr(err, "g.csv.zst:1: damaged zstd data"), "%s", err);
    free(z);
}

Test(report_csv, a_file_that_does_not_open_is_named)
{
    rr_csv_t *c = NULL;
    cr_assert_eq(rr_csv_open("/nonexistent/x.csv", &c, err, sizeof err), -1);
    cr_assert_str_eq(err, "/nonexistent/x.csv: No such file or directory");
    cr_assert_null(c);
}

/* Fuzz-ish: a valid file damaged at random (bytes replaced by the ones that
 * matter to the grammar, cut, spliced) reads to its end or stops with a
 * message naming it; never a crash (run under ASan in the sanitizer suite),
 * never an unnamed error. */
Test(report_csv, damaged_files_end_in_rows_or_a_named_error)
{
    static const char base[] = "shop_id,day,metric,num,den,unanswered,b0,final,revision,version\n"
                               "7,2026-11-22,pdd_buyer_3min,3,4,,,true,0,\"m2,\"\"q\"\"\"\n"
                               "7,2026-11-22,tmall_response_time,123000,4,1,1,true,0,m2\n"
                               "8,2026-11-23,\"multi\nline\",0,1,,,false,2,m2\n";
    static const char special[] = ",\"\r\n\0a9-";
    uint64_t seed = 0x5eed;
    char buf[sizeof base + 16];
    int errors = 0, whole = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = sizeof base - 1;
        memcpy(buf, base, n);
        int edits = 1 + (int)(rng_next(&seed) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)(rng_next(&seed) % n);
            switch (rng_next(&seed) % 4) {
            case 0:
                buf[at] = special[rng_next(&seed) % (sizeof special - 1)];
                break;
            case 1:
                buf[at] = (char)(rng_next(&seed) & 0xff);
                break;
            case 2:
                n = at; /* cut */
                break;
            default: /* drop a byte */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            }
            if (n == 0) break;
        }
        int z = iter % 10 == 0;
        char zb[512];
        const char *in = buf;
        size_t in_n = n;
        if (z) { /* also through zstd: compress the damaged text, then cut it at times */
            in_n = ZSTD_compress(zb, sizeof zb, buf, n, 1);
            cr_assert(!ZSTD_isError(in_n));
            if (iter % 20 == 0 && in_n > 1) in_n = (size_t)(rng_next(&seed) % in_n);
            in = zb;
        }
        rr_csv_t *c = NULL;
        err[0] = '\0';
        long rows = -1;
        if (rr_csv_open_mem("f.csv", in, in_n, z, &c, err, sizeof err) == 0) {
            rows = drain(c);
            rr_csv_close(c);
        }
        if (rows < 0) {
            cr_assert(!strncmp(err, "f.csv:", 6), "unnamed error '%s' (iteration %d)", err, iter);
            errors++;
        } else {
            whole++;
        }
    }
    cr_assert(errors > 1000 && whole > 100, "%d errors, %d read whole: the mutations miss", errors,
              whole);
}
