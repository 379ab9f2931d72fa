/* The changelog's checkpoint location, as it travels in the metadata of a
 * consumer group's offset (io/changelog.h): what is formatted parses back
 * to the same numbers, and anything else (a bounded run's range label,
 * another tool's metadata, a damaged string) is refused rather than read as
 * a location, since a wrong location would restore the wrong state. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "io/changelog.h"

static int parse(const char *s, rr_ck_loc_t *loc)
{
    return rr_changelog_parse(s, strlen(s), loc);
}

Test(changelog, location_round_trips)
{
    const rr_ck_loc_t cases[] = {
        {.offset = 0, .chunks = 1, .gen = 1, .bytes = 10, .raw = 20},
        {.offset = 123456789012,
         .chunks = 125,
         .gen = UINT64_MAX,
         .bytes = 65000000,
         .raw = 262000000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[128];
        rr_changelog_format(&cases[i], buf, sizeof buf);
        rr_ck_loc_t got;
        cr_assert_eq(parse(buf, &got), 0, "%s", buf);
        cr_assert_eq(got.offset, cases[i].offset);
        cr_assert_eq(got.chunks, cases[i].chunks);
        cr_assert_eq(got.gen, cases[i].gen);
        cr_assert_eq(got.bytes, cases[i].bytes);
        cr_assert_eq(got.raw, cases[i].raw);
    }
}

Test(changelog, other_metadata_is_no_location)
{
    static const char *const bad[] = {
        "",
        "replyrate:20261122..20261123", /* a bounded range run's label */
        "rrck1:",
        "rrck1:5:2:7:100",       /* a field short */
        "rrck1:5:2:7:100:200:9", /* one too many */
        "rrck1:5:2:7:100:200 ",  /* trailing bytes */
        "rrck1:-5:2:7:100:200",  /* no such offset */
        "rrck1:5:0:7:100:200",   /* no chunks */
        "rrck2:5:2:7:100:200",   /* another format */
        "rrck1:x:2:7:100:200",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rr_ck_loc_t loc;
        cr_assert_eq(parse(bad[i], &loc), -1, "'%s' was taken for a location", bad[i]);
    }
    rr_ck_loc_t loc;
    cr_assert_eq(rr_changelog_parse(NULL, 0, &loc), -1);
    /* metadata is not NUL-terminated: only len bytes count */
    const char *s = "rrck1:5:2:7:100:200trailing";
    cr_assert_eq(rr_changelog_parse(s, strlen("rrck1:5:2:7:100:200"), &loc), 0);
    cr_assert_eq(loc.raw, 200);
    char longer[200];
    memset(longer, '9', sizeof longer);
    memcpy(longer, "rrck1:", 6);
    cr_assert_eq(rr_changelog_parse(longer, sizeof longer, &loc), -1);
}
