/* Tests for report/runinfo: the manifest io/manifest.c writes reads back,
 * field by field; the time zone defaults; and the JSON parser refuses what
 * is not JSON, by line, without crashing on any damage. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/manifest.h"
#include "report/runinfo.h"
#include "support/rng.h"

static char err[512];

static char *sample_json(size_t *len)
{
    rr_manifest_t m;
    rr_manifest_init(&m, "9.8.7", 0);
    strcpy(m.metric_set, "m2-000000000001");
    strcpy(m.time_zone, "America/Sao_Paulo");
    m.started_ms = 1795320000123; /* 2026-11-22T04:00:00.123Z */
    m.ended_ms = 1795320061000;
    m.input = 10, m.applied = 6, m.duplicate = 1, m.late = 2, m.invalid = 1;
    cr_assert_eq(rr_manifest_add_file_input(&m, "day \"1\".pb.zst", 1234), 0);
    cr_assert_eq(rr_manifest_add_kafka_input(&m, "chat-events", 3, 100, 250), 0);
    rr_manifest_output_t o = {.flag = "--output-dir",
                              .path = "night/violations.csv",
                              .format = "csv",
                              .bytes = 99,
                              .records = {0, 0, 3, 0, 0, 0}};
    cr_assert_eq(rr_manifest_add_output(&m, &o), 0);
    char *json;
    cr_assert_eq(rr_manifest_render(&m, &json, len), 0);
    rr_manifest_free(&m);
    return json;
}

Test(runinfo, the_manifest_the_run_writes_reads_back)
{
    size_t len;
    char *json = sample_json(&len);
    rr_runinfo_t ri;
    cr_assert_eq(rr_runinfo_parse("m.json", json, len, &ri, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(ri.replyrate_version, "9.8.7");
    cr_assert_str_eq(ri.metric_set, "m2-000000000001");
    cr_assert_str_eq(ri.started_at, "2026-11-22T04:00:00.123Z");
    cr_assert_str_eq(ri.ended_at, "2026-11-22T04:01:01.000Z");
    cr_assert_eq(ri.input, 10);
    cr_assert_eq(ri.applied, 6);
    cr_assert_eq(ri.duplicate, 1);
    cr_assert_eq(ri.late, 2);
    cr_assert_eq(ri.invalid, 1);
    cr_assert_eq(ri.status, 0);
    cr_assert_eq(ri.complete, 1);
    cr_assert_eq(ri.n_inputs, 2);
    cr_assert_str_eq(ri.inputs[0].path, "day \"1\".pb.zst");
    cr_assert_eq(ri.inputs[0].bytes, 1234);
    cr_assert_null(ri.inputs[1].path);
    cr_assert_str_eq(ri.inputs[1].topic, "chat-events");
    cr_assert_eq(ri.inputs[1].partition, 3);
    cr_assert_eq(ri.inputs[1].from_offset, 100);
    cr_assert_eq(ri.inputs[1].to_offset, 250);
    cr_assert_eq(ri.n_outputs, 1);
    cr_assert_str_eq(ri.outputs[0].path, "night/violations.csv");
    cr_assert(ri.outputs[0].has_bytes && ri.outputs[0].has_records);
    cr_assert_eq(ri.outputs[0].bytes, 99);
    cr_assert_eq(ri.outputs[0].records, 3);
    cr_assert(ri.has_time_zone);
    cr_assert_str_eq(ri.time_zone, "America/Sao_Paulo");
    rr_runinfo_free(&ri);
    free(json);
}

static const char minimal[] = "{\"replyrate_version\":\"1\",\"metric_set\":\"m\",\"input\":0,"
                              "\"applied\":0,\"duplicate\":0,\"late\":0,\"invalid\":0";

static int parse(const char *tail, rr_runinfo_t *ri)
{
    char doc[1024];
    snprintf(doc, sizeof doc, "%s%s", minimal, tail);
    return rr_runinfo_parse("m.json", doc, strlen(doc), ri, err, sizeof err);
}

Test(runinfo, a_manifest_without_a_time_zone_reads_as_the_default)
{
    rr_runinfo_t ri;
    cr_assert_eq(parse("}", &ri), 0, "%s", err);
    /* written before manifests named it: the SPEC's default, and said so */
    cr_assert_eq(ri.has_time_zone, 0);
    cr_assert_str_eq(ri.time_zone, "Asia/Shanghai");
    rr_runinfo_free(&ri);
}

Test(runinfo, a_time_zone_and_escapes_are_read)
{
    rr_runinfo_t ri;
    cr_assert_eq(parse(",\"time_zone\":\"America/Sao_Paulo\",\"x\":[{\"deep\":[1,2.5e3,-0,null,"
                       "true]}],\"started_at\":\"caf\\u00e9 \\ud83d\\ude00 \\\"\\/\\n\"}",
                       &ri),
                 0, "%s", err);
    cr_assert(ri.has_time_zone);
    cr_assert_str_eq(ri.time_zone, "America/Sao_Paulo");
    cr_assert_str_eq(ri.started_at, "caf\xc3\xa9 \xf0\x9f\x98\x80 \"/\n");
    cr_assert_eq(ri.status, -1, "absent");
    cr_assert_eq(ri.complete, -1, "absent");
    rr_runinfo_free(&ri);
}

Test(runinfo, what_is_not_a_manifest_is_refused_by_name_and_line)
{
    rr_runinfo_t ri;
    cr_assert_eq(parse("}", &ri), 0, "%s", err);
    rr_runinfo_free(&ri);
    static const struct {
        const char *tail, *want;
    } bad[] = {
        {"", "m.json:1: the document ends early (file cut short?)"},
        {",\n\"late\":-1}", "m.json: \"late\": expected an unsigned integer"},
        {",\"input\":1.5}", "m.json: \"input\": expected an unsigned integer"},
        {",\"time_zone\":7}", "m.json: \"time_zone\": expected a string"},
        {",\"complete\":1}", "m.json: \"complete\": expected true or false"},
        {",\"inputs\":{}}", "m.json: \"inputs\": expected an array"},
        {",\"inputs\":[{\"path\":1}]}", "m.json: \"path\" of an input: expected a string"},
        {",\"outputs\":[{\"records\":{\"late\":\"x\"}}]}",
         "m.json: \"late\" of an output's records: expected an unsigned integer"},
        {"}x", "m.json:1: more after the document"},
        {",\n\n\"a\":tru}", "m.json:3: expected a value"},
        {",\"a\":\"\\x\"}", "m.json:1: an unknown escape in a string"},
        {",\"a\":\"\\ud800x\"}", "m.json:1: a lone surrogate in a \\u escape"},
        {",\"a\":\"\\u0000\"}", "m.json:1: \\u0000 in a string"},
        {",\"a\":\"\t\"}", "m.json:1: a control character inside a string"},
        {",\"a\":01}", "m.json:1: expected ',' or '}'"},
        {",\"a\":[1,]}", "m.json:1: expected a value"},
        {",\"type\":\"other\"}", "m.json: \"type\" is \"other\", not a replyrate_manifest"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(parse(bad[i].tail, &ri), -1, "%s parsed", bad[i].tail);
        cr_assert_str_eq(err, bad[i].want, "for %s", bad[i].tail);
    }
    cr_assert_eq(rr_runinfo_parse("m.json", "{\"input\":1}", 11, &ri, err, sizeof err), -1);
    cr_assert_str_eq(err, "m.json: \"replyrate_version\": expected a string");
    cr_assert_eq(rr_runinfo_parse("m.json", "[]", 2, &ri, err, sizeof err), -1);
    cr_assert_str_eq(err, "m.json:1: not a JSON object");
    char deep[200];
    memset(deep, '[', sizeof deep);
    cr_assert_eq(rr_runinfo_parse("m.json", deep, sizeof deep, &ri, err, sizeof err), -1);
    cr_assert_str_eq(err, "m.json:1: nested too deeply");
}

Test(runinfo, a_missing_file_is_named)
{
    rr_runinfo_t ri;
    cr_assert_eq(rr_runinfo_load("/nonexistent/manifest.json", &ri, err, sizeof err), -1);
    cr_assert_str_eq(err, "/nonexistent/manifest.json: No such file or directory");
}

/* Fuzz-ish: a real manifest damaged at random parses or is refused with a
 * message naming it; never a crash (ASan in the sanitizer suite). */
Test(runinfo, damaged_manifests_parse_or_are_named)
{
    size_t len;
    char *json = sample_json(&len);
    char *buf = malloc(len);
    static const char special[] = "{}[]\",:\\u0e-.9 tfn";
    uint64_t seed = 77;
    int refused = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = len;
        memcpy(buf, json, len);
        int edits = 1 + (int)(rng_next(&seed) % 3);
        for (int e = 0; e < edits && n; e++) {
            size_t at = (size_t)(rng_next(&seed) % n);
            if (rng_next(&seed) % 3)
                buf[at] = special[rng_next(&seed) % (sizeof special - 1)];
            else
                n = at;
        }
        rr_runinfo_t ri;
        err[0] = '\0';
        if (rr_runinfo_parse("m.json", buf, n, &ri, err, sizeof err) == 0) {
            rr_runinfo_free(&ri);
        } else {
            cr_assert(!strncmp(err, "m.json", 6), "unnamed error '%s'", err);
            refused++;
        }
    }
    cr_assert(refused > 5000, "only %d refused: the mutations miss", refused);
    free(buf);
    free(json);
}
