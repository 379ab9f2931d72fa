/* cmd_run.c: `replyrate run`: event files (or a Kafka topic) in, metric
 * records out.
 *
 * Each --input file is one partition, read in file order (SPEC §5). Files are
 * read round-robin in batches so that every partition's watermark advances
 * and days are finalised (and memory released) while the run goes on, not
 * only at the end. At the end every open day is published as final.
 * Reading (read(2), zstd, framing) happens on a reader thread a few batches
 * ahead of the engine, in the same order (io/readahead.h); everything else,
 * the engine and the outputs, on the main thread.
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "io/output.h"
#include "engine/tz.h"
#include "io/feed.h"
#include "io/readahead.h"
#include "io/source.h"
#include "io/tzload.h"
#include "pipeline/outcome.h"
#include "pipeline/outpaths.h"
#include "pipeline/run_files.h"
#include "pipeline/run_kafka.h"
#include "pipeline/run_shards.h"
#include "pipeline/run_stream.h"
#include "io/tmpfile.h"
#include "ops/stop.h"
#include "io/manifest.h"
#include "ops/progress.h"
#include "replyrate/engine.h"

#define MAX_INPUTS 1024
#define MAX_OUTPUTS 8
#define BATCH 4096

static const char run_usage[] =
    "usage: replyrate run --input FILE [--input FILE ...] --output FILE [options]\n"
    "       replyrate run --brokers HOST:PORT --topic NAME --group ID --publish [options]\n"
    "       replyrate run --brokers HOST:PORT --topic NAME --until-end --output FILE [options]\n"
    "       replyrate run --brokers HOST:PORT --topic NAME --from DATE --to DATE --publish [options]\n"
    "\n"
    "Computes every configured metric (default: the platforms' set, SPEC §4) for\n"
    "every shop, agent and day in the input, with violations and alerts.\n"
    "From files or with --until-end or --from/--to the run is bounded: it ends when\n"
    "its input does. From a topic without them it streams in the consumer group\n"
    "until SIGTERM, publishing each day once it is final (docs/kafka.md).\n"
    "\n"
    "  -i, --input FILE        delimited ChatEvent stream, plain or zstd (.pb, .pb.zst);\n"
    "                          repeatable, each file is its own partition\n"
    "  -b, --brokers LIST      read a Kafka topic instead (bootstrap servers)\n"
    "  -t, --topic NAME        the topic of chat events (with --brokers)\n"
    "  -g, --group ID          consumer group id (default replyrate)\n"
    "      --until-end         bounded: every partition from its beginning to its end\n"
    "                          offset at start, then every open day is final\n"
    "      --commit-every DUR  streaming: one transaction of results, state checkpoints\n"
    "                          and offsets this often (default 10s)\n"
    "      --provisional-every DUR  streaming: also publish the open days as they stand\n"
    "                          (final false, numbered revisions) with the first commit\n"
    "                          after each DUR, for \"today so far\" (default: off)\n"
    "      --instance NAME     streaming: this instance's name in the group, stable\n"
    "                          across restarts (default 0); each instance needs its own\n"
    "  -X KEY=VALUE            any librdkafka consumer or producer property; repeatable\n"
    "      --publish           also publish every record to Kafka topics PREFIX.shop_day,\n"
    "                          .agent_day, .violations, .alerts, .late, .dead_letter, in\n"
    "                          transactions committed with the input offsets (exactly once)\n"
    "      --topic-prefix P    the output topics' prefix (default replyrate)\n"
    "      --transactional-id ID  (default replyrate-GROUP-TOPIC, streaming: -INSTANCE\n"
    "                          appended); a restart with the same id\n"
    "                          aborts what a killed run left uncommitted\n"
    "      --from DATE --to DATE  a range of local days (YYYY-MM-DD, the job's time zone):\n"
    "                          each partition is read from --lookback before FROM (by\n"
    "                          record timestamp) until its watermark passes the end of TO\n"
    "                          + H; only days of the range are published\n"
    "      --lookback DUR      how far before FROM to start reading (default 1d), so\n"
    "                          conversations open at midnight are rebuilt\n";

/* --help's second half: outputs and outcome (one string would pass C's
 * 4095-byte limit). */
static const char run_usage_outcome[] =
    "  -o, --output FILE       results: .jsonl, .csv or .pb (delimited ResultRecord),\n"
    "                          any of them with .zst appended; repeatable; '-' = stdout JSONL\n"
    "      --late FILE         late events (same formats)\n"
    "      --dead-letter FILE  invalid events with reason and source position\n"
    "      --manifest FILE     where the manifest goes (default: FIRST_OUTPUT.manifest.json;\n"
    "                          none when the first output is '-')\n"
    "      --no-manifest       write no manifest\n"
    "      --allow-empty       exit 0 even when no event was applied\n"
    "      --allow-incomplete  exit 0 even when input is known missing (counted)\n"
    "      --resync            a file whose framing breaks before its end, or whose zstd\n"
    "                          data is damaged, is read on from where records decode\n"
    "                          again (the next intact zstd frame); the bytes in between\n"
    "                          go whole to the dead letter (default: the file ends at\n"
    "                          the break, the rest is unread: exit 3)\n"
    "      --max-invalid-ratio R  fail (exit 5) above this share of invalid events, judged\n"
    "                          from 10000 events on (default 0.05; 1 turns it off)\n"
    "  -c, --config FILE       metrics, alerts and job settings (docs/config.md)\n"
    "      --timezone ZONE     IANA time zone (overrides the config; default Asia/Shanghai)\n"
    "      --now-ms MS         wall clock to judge events against (default: the real clock)\n"
    "  -j, --threads N         shards: the input files (a bounded run: the topic's partitions)\n"
    "                          are dealt to N engines on N threads (default: one per file or\n"
    "                          partition, at most one per CPU); 1: one engine\n"
    "  -q, --quiet             no progress on stderr (the summary line is always printed)\n"
    "  -h, --help              this message\n"
    "\n"
    "Output files appear under their names only when the run succeeds (exit 0): they\n"
    "are written as .NAME.tmp.PID beside them and renamed at the end, then the manifest\n"
    "(versions, config hash, inputs, each output's records, bytes and sha256) is written.\n"
    "Otherwise nothing is published and an existing file of that name is left as it was.\n"
    "SIGTERM or SIGINT stops the run (a second one at once); a killed run may leave\n"
    ".NAME.tmp.PID files, which nothing reads. See docs/operations.md.\n"
    "\n"
    "On exit one JSON summary line goes to stderr:\n"
    "  {\"type\":\"summary\",\"input\":N,\"applied\":N,\"duplicate\":N,\"late\":N,\"invalid\":N,...,\n"
    "   \"unread_bytes\":N,\"skipped_bytes\":N,\"status\":N,\"reason\":\"...\",\"signal\":\"SIGTERM\"}\n"
    "A file's framing breaks when a length prefix is broken or runs past the end;\n"
    "a short tail (at most 4096 bytes) in which no record decodes is the file's last\n"
    "invalid record (SPEC §7), anything more is unread (docs/operations.md).\n"
    "Exit status:\n"
    "  0  ok: every output complete under its name, manifest written\n"
    "  1  runtime error (unreadable input, failed write, out of memory, broker error)\n"
    "  2  usage or config error, or a refused output (the same file as an input,\n"
    "     two outputs on one path)\n"
    "  3  incomplete input: a file's framing broke before its end or its zstd data is\n"
    "     damaged (without --resync), Kafka records deleted (unless --allow-incomplete)\n"
    "  4  empty input: no event applied (unless --allow-empty)\n"
    "  5  invalid events above --max-invalid-ratio\n"
    "  128+N  stopped by signal N (130 SIGINT, 143 SIGTERM)\n";

typedef struct fanout {
    rr_sink_t out[MAX_OUTPUTS];
    int n_out;
    rr_sink_t late;
    rr_sink_t dead;
    rr_sink_t pub; /* Kafka topics: every record kind */
    int has_late, has_dead, has_pub;
    /* a day range: only its days are published, and only the rejected
     * records that arrived in it (at or after each partition's offset) */
    int32_t from_ymd, to_ymd;
    int64_t *const *range_offsets;
    /* Input known missing (unread bytes of a file whose partition ended,
     * Kafka records deleted): from then on nothing is published as final.
     * Such a run publishes at all only with --allow-incomplete; its days
     * finalised before the gap was found are final, since what came after
     * it in its partition could only be late for them. */
    atomic_int gap_seen;
} fanout_t;

/* r with final cleared when input is known missing (docs/operations.md,
 * "Incomplete input"). */
#define FAN_FINAL(f, r, T)                                                                             const T *r##_ = (r);                                                                               T r##_copy;                                                                                        if (r##_->final && atomic_load_explicit(&(f)->gap_seen, memory_order_relaxed)) {                     r##_copy = *r##_;                                                                                  r##_copy.final = 0;                                                                                r##_ = &r##_copy;                                                                              }

static int day_out(const fanout_t *f, int32_t ymd)
{
    return f->from_ymd && (ymd < f->from_ymd || ymd > f->to_ymd);
}

static void fan_day(void *o, const rr_day_record_t *rec)
{
    fanout_t *f = o;
    if (day_out(f, rec->day))
        return;
    FAN_FINAL(f, rec, rr_day_record_t)
    for (int i = 0; i < f->n_out; i++)
        f->out[i].day(f->out[i].opaque, rec_);
    if (f->has_pub)
        f->pub.day(f->pub.opaque, rec_);
}

static void fan_violation(void *o, const rr_violation_record_t *rec)
{
    fanout_t *f = o;
    if (day_out(f, rec->day))
        return;
    FAN_FINAL(f, rec, rr_violation_record_t)
    for (int i = 0; i < f->n_out; i++)
        f->out[i].violation(f->out[i].opaque, rec_);
    if (f->has_pub)
        f->pub.violation(f->pub.opaque, rec_);
}

static void fan_alert(void *o, const rr_alert_record_t *rec)
{
    fanout_t *f = o;
    if (day_out(f, rec->day))
        return;
    FAN_FINAL(f, rec, rr_alert_record_t)
    for (int i = 0; i < f->n_out; i++)
        f->out[i].alert(f->out[i].opaque, rec_);
    if (f->has_pub)
        f->pub.alert(f->pub.opaque, rec_);
}

static void fan_rejected(void *o, const rr_rejected_record_t *r)
{
    fanout_t *f = o;
    if (f->from_ymd && *f->range_offsets && r->offset < (*f->range_offsets)[r->partition])
        return; /* arrived in the lookback: the previous range's */
    if (r->verdict == RR_LATE && f->has_late)
        f->late.rejected(f->late.opaque, r);
    else if (r->verdict == RR_INVALID && f->has_dead)
        f->dead.rejected(f->dead.opaque, r);
    if (f->has_pub)
        f->pub.rejected(f->pub.opaque, r);
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end)
        return -1;
    *out = v;
    return 0;
}

/* --NAME ARG, a duration in [lo, hi] ms (range says so in words), into *ms;
 * else the usage error on stderr and -1. */
static int duration_opt(const char *name, const char *arg, int64_t lo, int64_t hi,
                        const char *range, int64_t *ms)
{
    char err[256];
    int64_t v = 0;
    int unparsed = rr_config_file_duration(arg, &v, err, sizeof err) < 0;
    if (unparsed || v < lo || v > hi) {
        fprintf(stderr, "replyrate run: --%s: '%s': %s\n", name, arg, unparsed ? err : range);
        return -1;
    }
    *ms = v;
    return 0;
}

/* "--input a.pb", "--input a.pb, b.pb", "--input a.pb, b.pb and 3 more", or
 * "topic T": what a gate's message names. */
static void describe_inputs(const char *const *inputs, int n_in, const char *topic, char *out,
                            size_t size)
{
    if (topic) {
        snprintf(out, size, "topic %s", topic);
        return;
    }
    int shown = n_in < 3 ? n_in : 2;
    size_t len = (size_t)snprintf(out, size, "--input");
    for (int i = 0; i < shown && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s %s", i ? "," : "", inputs[i]);
    if (n_in > shown && len < size)
        snprintf(out + len, size - len, " and %d more", n_in - shown);
}

/* The quality gates, asked by a publishing Kafka run before it commits. */
typedef struct kafka_judge {
    const rr_gates_t *gates;
} kafka_judge_t;

static int kafka_judge(void *opaque, const rr_kafka_run_t *r)
{
    const kafka_judge_t *kj = opaque;
    rr_outcome_t o = {.stats = r->stats, .missing_records = r->missing_records};
    char msg[8];
    return rr_outcome_judge(&o, kj->gates, "", msg, sizeof msg);
}

/* Everything the manifest says but its outputs and its config. */
static void fill_manifest(rr_manifest_t *m, const rr_outcome_t *oc, const rr_gates_t *g,
                          const char *const *inputs, rr_source_t *const *src, int n_in, int *oom)
{
    m->ended_ms = rr_now_ms();
    m->status = oc->status;
    m->input = oc->stats.input;
    m->applied = oc->stats.applied;
    m->duplicate = oc->stats.duplicate;
    m->late = oc->stats.late;
    m->invalid = oc->stats.invalid;
    m->unread_bytes = oc->unread_bytes;
    m->missing_records = oc->missing_records;
    m->allow_empty = g->allow_empty;
    m->allow_incomplete = g->allow_incomplete;
    m->max_invalid_ratio = g->max_invalid_ratio;
    for (int i = 0; i < n_in; i++)
        if (rr_manifest_add_file_input(m, inputs[i], rr_source_bytes_in(src[i])) < 0)
            *oom = 1;
}

/* `replyrate run`; with live, over a topic still being written
 * (rr_cmd_run_live). */
static int run_command(int argc, char **argv, rr_kafka_live_t *live)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'},  {"output", required_argument, NULL, 'o'},
        {"late", required_argument, NULL, 'L'},   {"dead-letter", required_argument, NULL, 'D'},
        {"config", required_argument, NULL, 'c'}, {"timezone", required_argument, NULL, 'z'},
        {"now-ms", required_argument, NULL, 'n'}, {"quiet", no_argument, NULL, 'q'},
        {"threads", required_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'},
        {"brokers", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'}, {"publish", no_argument, NULL, 'P'},
        {"topic-prefix", required_argument, NULL, 'T'},
        {"transactional-id", required_argument, NULL, 'I'}, {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'U'}, {"lookback", required_argument, NULL, 'K'},
        {"until-end", no_argument, NULL, 'E'}, {"commit-every", required_argument, NULL, 'C'},
        {"instance", required_argument, NULL, 'N'},
        {"provisional-every", required_argument, NULL, 'V'},
        {"manifest", required_argument, NULL, 'M'}, {"no-manifest", no_argument, NULL, 'm'},
        {"allow-empty", no_argument, NULL, 'A'}, {"allow-incomplete", no_argument, NULL, 'W'},
        {"max-invalid-ratio", required_argument, NULL, 'R'}, {"resync", no_argument, NULL, 'Y'},
        {NULL, 0, NULL, 0}};
    const char *inputs[MAX_INPUTS];
    const char *outputs[MAX_OUTPUTS];
    int n_in = 0, n_outp = 0, quiet = 0, resync = 0;
    const char *late_path = NULL, *dead_path = NULL, *config_path = NULL, *tz_name = NULL;
    int64_t now_fixed = 0, threads = 0;
    int have_now = 0;
    rr_kafka_opts_t ko = {0};
    const char *topic = NULL, *group = NULL, *prefix = "replyrate", *txn_id = NULL;
    int publish = 0;
    rr_kafka_sink_t *pub = NULL;
    int32_t from_ymd = 0, to_ymd = 0;
    int64_t lookback_ms = RR_DAY_MS;
    int lookback_set = 0, until_end = 0;
    int64_t commit_every_ms = 10000;
    int commit_every_set = 0;
    int64_t provisional_every_ms = 0;
    const char *instance = NULL;
    const char *manifest_path = NULL;
    int no_manifest = 0, gates_set = 0;
    rr_gates_t gates;
    rr_gates_default(&gates);
    char err[512];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:o:c:j:b:t:g:X:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            ko.brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'g':
            group = optarg;
            break;
        case 'P':
            publish = 1;
            break;
        case 'T':
            prefix = optarg;
            break;
        case 'I':
            txn_id = optarg;
            break;
        case 'F':
        case 'U': {
            int y, m, d, k = 0;
            int32_t ymd = 0;
            if (strlen(optarg) == 10 && sscanf(optarg, "%4d-%2d-%2d%n", &y, &m, &d, &k) == 3 && k == 10)
                ymd = y * 10000 + m * 100 + d;
            if (!ymd || rr_yyyymmdd_to_day(ymd) == RR_TZ_BAD_DATE) {
                fprintf(stderr, "replyrate run: --%s: expected a date YYYY-MM-DD, got '%s'\n",
                        c == 'F' ? "from" : "to", optarg);
                return 2;
            }
            *(c == 'F' ? &from_ymd : &to_ymd) = ymd;
            break;
        }
        case 'K':
            if (duration_opt("lookback", optarg, 0, 31 * RR_DAY_MS, "at most 31d", &lookback_ms) < 0)
                return 2;
            lookback_set = 1;
            break;
        case 'E':
            until_end = 1;
            break;
        case 'C':
            if (duration_opt("commit-every", optarg, 100, 300000, "between 100ms and 5m",
                             &commit_every_ms) < 0)
                return 2;
            commit_every_set = 1;
            break;
        case 'N':
            instance = optarg;
            break;
        case 'M':
            manifest_path = optarg;
            break;
        case 'm':
            no_manifest = 1;
            break;
        case 'A':
            gates.allow_empty = gates_set = 1;
            break;
        case 'Y':
            resync = 1;
            break;
        case 'W':
            gates.allow_incomplete = gates_set = 1;
            break;
        case 'R':
            if (rr_gates_parse_ratio(optarg, &gates.max_invalid_ratio) < 0) {
                fprintf(stderr, "replyrate run: --max-invalid-ratio: expected a number in 0..1, "
                                "got '%s'\n", optarg);
                return 2;
            }
            gates_set = 1;
            break;
        case 'V':
            if (duration_opt("provisional-every", optarg, 1000, RR_DAY_MS, "between 1s and 24h",
                             &provisional_every_ms) < 0)
                return 2;
            break;
        case 'X':
            if (rr_kafka_add_prop(&ko, optarg, err, sizeof err) < 0) {
                fprintf(stderr, "replyrate run: %s\n", err);
                return 2;
            }
            break;
        case 'i':
            if (n_in == MAX_INPUTS) {
                fprintf(stderr, "replyrate run: more than %d --input files\n", MAX_INPUTS);
                return 2;
            }
            inputs[n_in++] = optarg;
            break;
        case 'o':
            if (n_outp == MAX_OUTPUTS) {
                fprintf(stderr, "replyrate run: more than %d --output files\n", MAX_OUTPUTS);
                return 2;
            }
            outputs[n_outp++] = optarg;
            break;
        case 'L':
            late_path = optarg;
            break;
        case 'D':
            dead_path = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'z':
            tz_name = optarg;
            break;
        case 'n':
            if (parse_i64(optarg, &now_fixed) < 0) {
                fprintf(stderr, "replyrate run: --now-ms: not an integer: '%s'\n", optarg);
                return 2;
            }
            have_now = 1;
            break;
        case 'j':
            if (parse_i64(optarg, &threads) < 0 || threads < 1 || threads > MAX_INPUTS) {
                fprintf(stderr, "replyrate run: --threads: expected an integer in 1..%d, got '%s'\n",
                        MAX_INPUTS, optarg);
                return 2;
            }
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(run_usage, stdout);
            fputs(run_usage_outcome, stdout);
            return 0;
        default:
            fputs(run_usage, stderr);
            fputs(run_usage_outcome, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "replyrate run: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (n_in && (ko.brokers || topic)) {
        fprintf(stderr, "replyrate run: --input and --brokers/--topic exclude each other\n");
        return 2;
    }
    if (!!ko.brokers != !!topic) {
        fprintf(stderr, "replyrate run: %s needs %s\n", topic ? "--topic" : "--brokers",
                topic ? "--brokers" : "--topic");
        return 2;
    }
    if ((!n_in && !topic) || (!n_outp && !publish)) {
        fprintf(stderr, "replyrate run: %s is required\n\n%s%s",
                !n_in && !topic ? "--input (or --brokers and --topic)" : "--output (or --publish)",
                run_usage, run_usage_outcome);
        return 2;
    }
    if (resync && !n_in) {
        fprintf(stderr, "replyrate run: --resync is for --input files\n");
        return 2;
    }
    if ((group || ko.n_props || publish || from_ymd || to_ymd) && !topic) {
        fprintf(stderr,
                "replyrate run: --group, --publish, --from/--to and -X need --brokers and --topic\n");
        return 2;
    }
    int streaming = topic && !until_end && !from_ymd;
    if ((until_end || instance || commit_every_set || provisional_every_ms) && !topic) {
        fprintf(stderr, "replyrate run: --until-end, --instance, --commit-every and "
                        "--provisional-every need --brokers and --topic\n");
        return 2;
    }
    if (until_end && from_ymd) {
        fprintf(stderr, "replyrate run: --until-end and --from/--to exclude each other\n");
        return 2;
    }
    if ((instance || commit_every_set || provisional_every_ms) && !streaming) {
        fprintf(stderr, "replyrate run: --instance, --commit-every and --provisional-every are for "
                        "streaming (not with --until-end or --from/--to)\n");
        return 2;
    }
    if (streaming && threads) {
        fprintf(stderr, "replyrate run: --threads is for files and bounded runs (--until-end or "
                        "--from/--to); streaming runs its partitions' engines on one thread\n");
        return 2;
    }
    if (streaming && !publish) {
        fprintf(stderr,
                "replyrate run: streaming from a topic needs --publish (its transactions carry the "
                "state); for a bounded run to the topic's end add --until-end\n");
        return 2;
    }
    if (live && (!topic || !until_end)) {
        fprintf(stderr, "replyrate run: a topic still being written is read with --brokers, "
                        "--topic and --until-end\n");
        return 2;
    }
    if (lookback_set && !from_ymd) {
        fprintf(stderr, "replyrate run: --lookback needs --from and --to\n");
        return 2;
    }
    if (!from_ymd != !to_ymd || from_ymd > to_ymd) {
        fprintf(stderr, "replyrate run: %s\n",
                !from_ymd != !to_ymd ? "--from and --to go together" : "--from is after --to");
        return 2;
    }
    /* An output we cannot name a format for is a usage error: say so before any work. */
    for (int i = 0; i < n_outp + 2; i++) {
        const char *path = i < n_outp ? outputs[i] : i == n_outp ? late_path : dead_path;
        rr_format_t fmt;
        if (path && strcmp(path, "-") && rr_format_from_path(path, &fmt, err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: %s\n", err);
            return 2;
        }
    }
    /* The manifest: beside the first output unless told otherwise; none for
     * a stream (it has no end to describe) or when results go to stdout. */
    char manifest_buf[4096];
    if (manifest_path && no_manifest) {
        fprintf(stderr, "replyrate run: --manifest and --no-manifest exclude each other\n");
        return 2;
    }
    if (streaming && (manifest_path || gates_set)) {
        fprintf(stderr, "replyrate run: --manifest, --allow-empty, --allow-incomplete and "
                        "--max-invalid-ratio are for bounded runs (files, --until-end, --from/--to)\n");
        return 2;
    }
    if (!manifest_path && !no_manifest && !streaming && n_outp && strcmp(outputs[0], "-")) {
        snprintf(manifest_buf, sizeof manifest_buf, "%s.manifest.json", outputs[0]);
        manifest_path = manifest_buf;
    }
    /* Outputs that would destroy an input or each other: refused before
     * anything is opened for writing. */
    {
        rr_named_path_t in_paths[MAX_INPUTS], out_paths[MAX_OUTPUTS + 3];
        size_t n_op = 0;
        for (int i = 0; i < n_in; i++)
            in_paths[i] = (rr_named_path_t){"--input", inputs[i]};
        for (int i = 0; i < n_outp; i++)
            out_paths[n_op++] = (rr_named_path_t){"--output", outputs[i]};
        out_paths[n_op++] = (rr_named_path_t){"--late", late_path};
        out_paths[n_op++] = (rr_named_path_t){"--dead-letter", dead_path};
        out_paths[n_op++] = (rr_named_path_t){"--manifest", manifest_path};
        if (rr_outpaths_check(in_paths, (size_t)n_in, out_paths, n_op, err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: %s\n", err);
            return 2;
        }
    }
    rr_config_t cfg;
    if (config_path) {
        if (rr_config_file_load(config_path, &cfg, err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: config: %s\n", err);
            return 2;
        }
    } else {
        rr_config_default(&cfg);
    }
    if (tz_name)
        snprintf(cfg.timezone, sizeof cfg.timezone, "%s", tz_name);

    int status = 1;
    rr_tz_t *tz = NULL;
    rr_engine_t *eng = NULL;
    rr_run_files_t files = {0};
    rr_source_t *src[MAX_INPUTS] = {0};
    int part[MAX_INPUTS];
    rr_readahead_t *ra = NULL;
    fanout_t fan = {0};
    rr_outcome_t oc = {0};
    rr_manifest_t man;
    rr_manifest_init(&man, RR_VERSION, rr_now_ms());
    char inputs_label[512];
    describe_inputs(inputs, n_in, topic, inputs_label, sizeof inputs_label);

    /* SIGINT/SIGTERM from here on: a bounded run stops and publishes nothing
     * (a second signal exits at once), a stream commits and returns. */
    rr_stop_install(streaming ? RR_STOP_FLAG : RR_STOP_GRACEFUL, rr_tmpfile_discard_all_signal_safe);
    volatile sig_atomic_t *stop = rr_stop_flag();

    if (rr_tz_load(cfg.timezone, &tz, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate run: %s\n", err);
        status = 2;
        goto out;
    }
    /* inputs first: one that cannot be read fails the run before any output exists */
    for (int i = 0; i < n_in; i++) {
        if (rr_source_open(inputs[i], &src[i], err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: %s\n", err);
            goto failed;
        }
        rr_source_set_resync(src[i], resync);
    }
    for (int i = 0; i < n_outp + 2; i++) {
        const char *flag = i < n_outp ? "--output" : i == n_outp ? "--late" : "--dead-letter";
        const char *path = i < n_outp ? outputs[i] : i == n_outp ? late_path : dead_path;
        rr_sink_t *to = i < n_outp ? &fan.out[fan.n_out++] : i == n_outp ? &fan.late : &fan.dead;
        if (!path)
            continue;
        if (rr_run_files_open(&files, flag, path, to, err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: %s\n", err);
            goto failed;
        }
        fan.has_late |= i == n_outp;
        fan.has_dead |= i == n_outp + 1;
    }
    rr_sink_t sink = {.opaque = &fan,
                      .day = fan_day,
                      .violation = fan_violation,
                      .alert = fan_alert,
                      .rejected = fan_rejected};
    if (!threads) { /* one shard per file or partition, at most one per CPU */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : topic || cpus < n_in ? cpus : n_in;
    }
    /* shards and Kafka runs (run_kafka.c, run_stream.c) make engines of their own */
    int sharded = !topic && threads > 1 && n_in > 1;
    if (topic && rr_config_validate(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate run: config: %s\n", err);
        status = 2;
        goto out;
    }
    if (!sharded && !topic && rr_engine_new(&cfg, tz, &sink, &eng, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate run: config: %s\n", err);
        status = 2;
        goto out;
    }
    if (topic) {
        if (publish) {
            char idbuf[512];
            if (!txn_id) {
                if (streaming)
                    snprintf(idbuf, sizeof idbuf, "replyrate-%s-%s-%s", group ? group : "replyrate",
                             topic, instance ? instance : "0");
                else
                    snprintf(idbuf, sizeof idbuf, "replyrate-%s-%s", group ? group : "replyrate",
                             topic);
                txn_id = idbuf;
            }
            /* a bounded run is one transaction: up to the broker's maximum;
             * streaming commits often, and a killed instance's open
             * transaction should not hold readers back long */
            int64_t txn_timeout = streaming ? 60000 + 3 * commit_every_ms : 900000;
            if (txn_timeout > 900000) /* the broker's default transaction.max.timeout.ms */
                txn_timeout = 900000;
            if (rr_kafka_sink_open(&ko, prefix, txn_id, (int)txn_timeout, &pub, err, sizeof err) < 0) {
                fprintf(stderr, "replyrate run: %s\n", err);
                goto failed;
            }
            rr_kafka_sink_callbacks(pub, &fan.pub);
            fan.has_pub = 1;
        }
        if (streaming) {
            rr_stream_run_t sr = {.ko = &ko,
                                  .topic = topic,
                                  .group = group ? group : "replyrate",
                                  .prefix = prefix,
                                  .cfg = &cfg,
                                  .tz = tz,
                                  .sink = sink,
                                  .publish = pub,
                                  .commit_every_ms = commit_every_ms,
                                  .provisional_every_ms = provisional_every_ms,
                                  .have_now = have_now,
                                  .now_ms = now_fixed,
                                  .quiet = quiet,
                                  .stop = stop};
            status = rr_run_stream(&sr);
            if (status) {
                fprintf(stderr, "replyrate run: %s%s\n", sr.err,
                        rr_kafka_sink_fenced(pub)
                            ? " (fenced: another instance runs with the same --instance)"
                            : "");
                goto out;
            }
            oc.stats = sr.stats;
            oc.seconds = sr.seconds;
            oc.signo = rr_stop_signal(); /* a stream's normal end: status 0 */
            goto judged;
        }
        rr_kafka_run_t kr = {.ko = &ko,
                             .topic = topic,
                             .group = group,
                             .cfg = &cfg,
                             .tz = tz,
                             .sink = sink,
                             .threads = (int)threads,
                             .have_now = have_now,
                             .now_ms = now_fixed,
                             .quiet = quiet};
        kr.publish = pub;
        char label[64];
        if (from_ymd) {
            int64_t H = cfg.horizon_ms;
            kr.range_start_ms = rr_tz_day_start(tz, rr_yyyymmdd_to_day(from_ymd));
            kr.range_end_ms = rr_tz_day_end(tz, rr_yyyymmdd_to_day(to_ymd));
            kr.seek_ms = kr.range_start_ms - lookback_ms;
            kr.stop_ms = kr.range_end_ms + H;
            snprintf(label, sizeof label, "replyrate:%d..%d", (int)from_ymd, (int)to_ymd);
            kr.range_label = label;
            fan.from_ymd = from_ymd;
            fan.to_ymd = to_ymd;
            fan.range_offsets = &kr.range_offsets;
        }
        /* The gates judge the run before its transaction commits; the
         * outcome below judges it again for the files, the same way. */
        kafka_judge_t kj = {.gates = &gates};
        kr.allow_incomplete = gates.allow_incomplete;
        kr.stop = stop;
        kr.gap_seen = &fan.gap_seen;
        kr.judge = kafka_judge;
        kr.judge_opaque = &kj;
        kr.live = live;
        status = rr_run_kafka(&kr);
        free(kr.range_offsets);
        kr.range_offsets = NULL;
        oc.stats = kr.stats;
        oc.seconds = kr.seconds;
        oc.missing_records = kr.missing_records;
        for (size_t i = 0; i < kr.n_read; i++)
            if (rr_manifest_add_kafka_input(&man, topic, kr.read[i].partition, kr.read[i].from,
                                            kr.read[i].to) < 0)
                rr_outcome_error(&oc);
        free(kr.read);
        if (status == 2) { /* a client or engine configuration error: no run */
            fprintf(stderr, "replyrate run: %s\n", kr.err);
            goto out;
        }
        if (status == 3) { /* records deleted: named; the gate below says the rest */
            fprintf(stderr, "replyrate run: %s\n", kr.err);
            if (!oc.missing_records) /* cannot be, but then nothing may be published */
                rr_outcome_error(&oc);
        } else if (status >= 4 && status <= 5) {
            /* a gate stopped the commit; the outcome below says which */
        } else if (status && !*stop) {
            fprintf(stderr, "replyrate run: %s\n", kr.err);
            rr_outcome_error(&oc);
        } else if (kr.already_published) {
            /* nothing to do (said on stderr): no gate, and no file is touched */
            rr_run_files_abort(&files);
            manifest_path = NULL;
            goto judged;
        } else if (kr.engine_error[0]) {
            fprintf(stderr, "replyrate run: %s\n", kr.engine_error);
            rr_outcome_error(&oc);
        }
        goto judge;
    }
    if (sharded) {
        rr_shard_run_t run = {.cfg = &cfg,
                              .tz = tz,
                              .sink = sink,
                              .src = src,
                              .names = inputs,
                              .n_in = n_in,
                              .n_shards = (int)threads,
                              .have_now = have_now,
                              .now_ms = now_fixed,
                              .quiet = quiet,
                              .stop = stop,
                              .gap_seen = &fan.gap_seen};
        status = rr_run_shards(&run);
        if (status == 2)
            goto out;
        oc.stats = run.stats;
        oc.seconds = run.seconds;
        if (status) /* an unreadable input or an engine out of memory, named on stderr */
            rr_outcome_error(&oc);
        goto judge;
    }
    for (int i = 0; i < n_in; i++) {
        part[i] = rr_engine_add_partition(eng, inputs[i]);
        if (part[i] < 0) {
            fprintf(stderr, "replyrate run: out of memory\n");
            goto failed;
        }
    }

    /* Reading (read(2), zstd, framing) runs on a reader thread, a few batches
     * ahead, in exactly the order this loop would read (io/readahead.h). */
    if (rr_readahead_start(src, n_in, BATCH, &ra, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate run: %s\n", err);
        goto failed;
    }
    double t0 = rr_mono_s(), next_progress = t0 + 5;
    int64_t now = have_now ? now_fixed : rr_now_ms();
    int ended = 0;
    while (!*stop) {
        rr_readahead_item_t it;
        rr_readahead_next(ra, &it);
        if (it.kind == RR_READAHEAD_DONE) {
            ended = 1;
            break;
        }
        if (it.kind == RR_READAHEAD_ERROR) {
            fprintf(stderr, "replyrate run: %s\n", it.error);
            rr_outcome_error(&oc);
            break;
        }
        if (it.kind == RR_READAHEAD_END) {
            /* the source is done (the reader has moved on): its gaps are
             * known before the partition stops holding days back */
            if (rr_source_gaps(src[it.which]).unread_bytes)
                atomic_store(&fan.gap_seen, 1);
            rr_engine_partition_end(eng, part[it.which]);
            continue;
        }
        if (!have_now)
            now = rr_now_ms();
        rr_feed_records(eng, part[it.which], it.recs, it.n, now, NULL);
        if (!quiet && rr_mono_s() > next_progress) {
            rr_stats_t now_st;
            rr_engine_stats(eng, &now_st);
            rr_progress_print(now_st.input, rr_mono_s() - t0, now_st.open_conversations,
                              now_st.open_days);
            next_progress += 5;
        }
    }
    rr_readahead_stop(ra);
    ra = NULL;
    if (ended && !*stop) /* every open day final: only for a run that read all of its input */
        rr_engine_finish(eng);
    oc.seconds = rr_mono_s() - t0;
    if (rr_engine_error(eng)) {
        fprintf(stderr, "replyrate run: %s\n", rr_engine_error(eng));
        rr_outcome_error(&oc);
    }
    rr_engine_stats(eng, &oc.stats);
    goto judge;

failed: /* before or at the start of reading: named on stderr */
    rr_outcome_error(&oc);
judge:
    /* Unread input is never silent (io/source.h): every break is named, and
     * bytes known missing make the run incomplete (rule 3). */
    for (int i = 0; i < n_in; i++) {
        if (!src[i])
            continue;
        rr_source_gaps_t g = rr_source_gaps(src[i]);
        if (!g.breaks && !g.unread_bytes)
            continue;
        fprintf(stderr, "replyrate run: %s\n", rr_source_notice(src[i]));
        oc.unread_bytes += g.unread_bytes;
        oc.skipped_bytes += g.skipped_bytes;
    }
    if (*stop)
        rr_outcome_stopped(&oc, rr_stop_signal());
    if (oc.status == 0) {
        char msg[1024];
        if (rr_outcome_judge(&oc, &gates, inputs_label, msg, sizeof msg))
            fprintf(stderr, "replyrate run: %s\n", msg);
    }
judged:
    if (oc.status == 0) {
        /* Publishing: a signal from here on is too late to stop it (the
         * renames take microseconds; cutting them short would publish part
         * of the run). */
        rr_stop_hold(1);
        rr_manifest_t *m = NULL;
        if (manifest_path) {
            int oom = rr_manifest_set_config(&man, &cfg) < 0;
            m = &man;
            fill_manifest(m, &oc, &gates, inputs, src, n_in, &oom);
            if (oom) {
                fprintf(stderr, "replyrate run: out of memory writing the manifest\n");
                rr_outcome_error(&oc);
            }
        }
        if (oc.status == 0 &&
            rr_run_files_publish(&files, m, manifest_path, err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: %s\n", err);
            rr_outcome_error(&oc);
        }
    }
    rr_run_files_abort(&files); /* whatever was not published */
    rr_outcome_print(stderr, &oc);
    status = oc.status;

out:
    rr_readahead_stop(ra); /* before the sources it reads */
    for (int i = 0; i < n_in; i++)
        if (src[i])
            rr_source_close(src[i]);
    rr_run_files_abort(&files);
    rr_engine_free(eng);
    rr_kafka_sink_close(pub); /* aborts what was not committed */
    rr_tz_free(tz);
    rr_manifest_free(&man);
    rr_stop_restore();
    return status;
}

int rr_cmd_run(int argc, char **argv)
{
    return run_command(argc, argv, NULL);
}

int rr_cmd_run_live(int argc, char **argv, rr_kafka_live_t *live)
{
    int status = run_command(argc, argv, live);
    rr_kafka_live_over(live); /* also when it stopped before reading */
    return status;
}
