/* Tests for io/manifest: the JSON a loader reads (every field, escaping,
 * Kafka inputs), the config hash, and its atomic, last-moment publication. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/manifest.h"

static rr_manifest_t sample(void)
{
    rr_manifest_t m;
    rr_manifest_init(&m, "9.8.7", 0);
    strcpy(m.cwd, "/work/d");
    strcpy(m.metric_set, "m1-000000000001");
    memset(m.config_sha256, 'a', 64);
    m.config_sha256[64] = 0;
    strcpy(m.time_zone, "Asia/Shanghai");
    m.started_ms = 1795320000123; /* 2026-11-22T04:00:00.123Z */
    m.ended_ms = 1795320061000;
    m.input = 10, m.applied = 6, m.duplicate = 1, m.late = 2, m.invalid = 1;
    m.max_invalid_ratio = 0.05;
    cr_assert_eq(rr_manifest_add_file_input(&m, "day \"1\".pb.zst", 1234), 0);
    cr_assert_eq(rr_manifest_add_kafka_input(&m, "chat-events", 3, 100, 250), 0);
    rr_manifest_output_t o = {.flag = "--output",
                              .path = "m.csv.zst",
                              .format = "csv",
                              .compressed = 1,
                              .bytes = 99,
                              .has_sha256 = 1,
                              .records = {1, 2, 3, 4, 0, 0}};
    memset(o.sha256, 'b', 64);
    o.sha256[64] = 0;
    cr_assert_eq(rr_manifest_add_output(&m, &o), 0);
    rr_manifest_output_t late = {.flag = "--late",
                                 .path = "-",
                                 .format = "jsonl",
                                 .bytes = 7,
                                 .records = {0, 0, 0, 0, 2, 0}};
    cr_assert_eq(rr_manifest_add_output(&m, &late), 0);
    return m;
}

Test(manifest, renders_every_field_a_loader_reads)
{
    rr_manifest_t m = sample();
    char *json;
    size_t len;
    cr_assert_eq(rr_manifest_render(&m, &json, &len), 0);
    cr_assert_eq(strlen(json), len);
    const char *want =
        "{\"type\":\"replyrate_manifest\",\"manifest_version\":1,\n"
        "\"replyrate_version\":\"9.8.7\",\"metric_set\":\"m1-000000000001\",\"config_sha256\":"
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"time_zone\":"
        "\"Asia/Shanghai\",\n"
        "\"started_at\":\"2026-11-22T04:00:00.123Z\",\"ended_at\":\"2026-11-22T04:01:01.000Z\","
        "\"cwd\":\"/work/d\",\n"
        "\"status\":0,\"complete\":true,\"input\":10,\"applied\":6,\"duplicate\":1,\"late\":2,"
        "\"invalid\":1,\"unread_bytes\":0,\"missing_records\":0,\n"
        "\"gates\":{\"allow_empty\":false,\"allow_incomplete\":false,\"max_invalid_ratio\":0.05},\n"
        "\"inputs\":[\n"
        "  {\"path\":\"day \\\"1\\\".pb.zst\",\"bytes\":1234},\n"
        "  {\"topic\":\"chat-events\",\"partition\":3,\"from_offset\":100,\"to_offset\":250}],\n"
        "\"outputs\":[\n"
        "  "
        "{\"flag\":\"--output\",\"path\":\"m.csv.zst\",\"format\":\"csv\",\"compression\":\"zstd\","
        "\"bytes\":99,\"sha256\":"
        "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\","
        "\"records\":{\"shop_day\":1,\"agent_day\":2,\"violation\":3,\"alert\":4,\"late\":0,"
        "\"invalid\":0}},\n"
        "  "
        "{\"flag\":\"--late\",\"path\":\"-\",\"format\":\"jsonl\",\"compression\":null,\"bytes\":7,"
        "\"sha256\":null,\"records\":{\"shop_day\":0,\"agent_day\":0,\"violation\":0,\"alert\":0,"
        "\"late\":2,\"invalid\":0}}]}\n";
    cr_assert_str_eq(json, want);
    free(json);
    rr_manifest_free(&m);
}

Test(manifest, an_incomplete_run_says_so)
{
    rr_manifest_t m = sample();
    m.missing_records = 5;
    m.allow_incomplete = 1;
    char *json;
    size_t len;
    cr_assert_eq(rr_manifest_render(&m, &json, &len), 0);
    cr_assert(strstr(json, "\"complete\":false"), "%s", json);
    cr_assert(strstr(json, "\"missing_records\":5"), "%s", json);
    cr_assert(strstr(json, "\"allow_incomplete\":true"), "%s", json);
    free(json);
    rr_manifest_free(&m);
}

Test(manifest, control_bytes_in_paths_are_escaped)
{
    rr_manifest_t m;
    rr_manifest_init(&m, "v", 0);
    cr_assert_eq(rr_manifest_add_file_input(&m, "a\nb\\c\x01", 1), 0);
    char *json;
    size_t len;
    cr_assert_eq(rr_manifest_render(&m, &json, &len), 0);
    cr_assert(strstr(json, "{\"path\":\"a\\u000ab\\\\c\\u0001\",\"bytes\":1}"), "%s", json);
    free(json);
    rr_manifest_free(&m);
}

Test(manifest, config_hash_is_the_sha256_of_the_canonical_text)
{
    rr_config_t cfg;
    rr_config_default(&cfg);
    rr_manifest_t m;
    rr_manifest_init(&m, "v", 0);
    cr_assert_eq(rr_manifest_set_config(&m, &cfg), 0);
    size_t n = rr_config_canonical(&cfg, NULL, 0);
    char *text = malloc(n + 1);
    rr_config_canonical(&cfg, text, n + 1);
    uint8_t d[RR_SHA256_LEN];
    char hex[RR_SHA256_HEX_LEN], version[32];
    rr_sha256(text, n, d);
    rr_sha256_hex(d, hex);
    cr_assert_str_eq(m.config_sha256, hex);
    rr_config_version(&cfg, version, sizeof version);
    cr_assert_str_eq(m.metric_set, version);
    free(text);
    rr_manifest_free(&m);
}

Test(manifest, prepared_is_complete_but_unpublished_until_closed)
{
    char dir[] = "/tmp/rr_manifest_XXXXXX", path[128], tmp[160];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.jsonl.manifest.json", dir);
    snprintf(tmp, sizeof tmp, "%s/.m.jsonl.manifest.json.tmp.%ld", dir, (long)getpid());
    rr_manifest_t m = sample();
    rr_filesink_t *s;
    char err[256];
    cr_assert_eq(rr_manifest_prepare(&m, path, &s, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "published before close");
    cr_assert_eq(stat(tmp, &st), 0);
    char *json;
    size_t len;
    rr_manifest_render(&m, &json, &len);
    cr_assert_eq((size_t)st.st_size, len, "the temporary is complete");
    cr_assert_eq(rr_filesink_close(s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((size_t)st.st_size, len);
    cr_assert_neq(stat(tmp, &st), 0);
    free(json);
    rr_manifest_free(&m);
    unlink(path);
    rmdir(dir);
}

Test(manifest, prepare_failure_names_the_path)
{
    rr_manifest_t m = sample();
    rr_filesink_t *s = (rr_filesink_t *)1;
    char err[256] = "";
    cr_assert_eq(rr_manifest_prepare(&m, "/nonexistent/dir/m.json", &s, err, sizeof err), -1);
    cr_assert_null(s);
    cr_assert(strstr(err, "/nonexistent/dir/m.json"), "%s", err);
    rr_manifest_free(&m);
}
