/* cli/cmd_run.c: `replyrate run`: event files (or a Kafka topic) in, metric
 * records out.
 *
 * Flag parsing only: the flags are checked against each other (usage errors:
 * status 2 before anything is opened), the configuration is loaded, the
 * outputs are checked against the inputs and each other, and the job they
 * describe (pipeline/job.h) is handed to rr_job_run, which runs it in its
 * mode. Then the run's error, if any, and its summary (pipeline/summary.h)
 * are logged (ops/log.h), as every usage error is.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "engine/tz.h"
#include "io/kafka.h"
#include "io/output.h"
#include "ops/log.h"
#include "ops/telemetry.h"
#include "pipeline/fanout.h"
#include "pipeline/job.h"
#include "pipeline/outdir.h"
#include "pipeline/outpaths.h"
#include "pipeline/summary.h"
#include "ops/log.h"

#define MAX_INPUTS 1024
#define MAX_OUTPUTS 8 /* --output files; --output-dir adds RR_TABLES to the fan-out */

static const char run_usage[] =
    "usage: replyrate run --input FILE [--input FILE ...] --output FILE [options]\n"
    "       replyrate run --brokers HOST:PORT --topic NAME --group ID --publish [options]\n"
    "       replyrate run --brokers HOST:PORT --topic NAME --until-end --output FILE [options]\n"
    "       replyrate run --brokers HOST:PORT --topic NAME --from DATE --to DATE --publish "
    "[options]\n"
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
    "      --instance NAME     this instance's name in --group, stable across restarts,\n"
    "                          each instance its own. Streaming: default 0. With\n"
    "                          --until-end or --from/--to and --publish: the group's\n"
    "                          instances share the partitions, each published once\n"
    "  -X KEY=VALUE            any librdkafka consumer or producer property; repeatable;\n"
    "                          ${NAME} in it is the environment variable NAME\n"
    "  -F, --kafka-config FILE librdkafka properties, one key=value a line (# comments),\n"
    "                          ${NAME} expanded: secrets from a file or the environment,\n"
    "                          not the command line; repeatable; -X and -F apply in\n"
    "                          order, the later one wins\n"
    "      --publish           also publish every record to Kafka topics PREFIX.shop_day,\n"
    "                          .agent_day, .violations, .alerts, .late, .dead_letter, in\n"
    "                          transactions committed with the input offsets (exactly once)\n"
    "      --topic-prefix P    the output topics' prefix (default replyrate)\n"
    "      --publish-format pb|json  their values: protobuf messages (pb, the default) or\n"
    "                          --output's JSON Lines objects without the newline (json,\n"
    "                          for Kafka Connect's JsonConverter, schemas.enable=false);\n"
    "                          the keys are the same; replyrate export reads both\n"
    "      --transactional-id ID  (default replyrate-GROUP-TOPIC, with --instance:\n"
    "                          -INSTANCE appended); a restart with the same id\n"
    "                          aborts what a killed run left uncommitted\n"
    "      --from DATE --to DATE  a range of local days (YYYY-MM-DD, the job's time zone):\n"
    "                          each partition is read from --lookback before FROM (by\n"
    "                          record timestamp) until its watermark passes the end of TO\n"
    "                          + H; only days of the range are published\n"
    "      --lookback DUR      how far before FROM to start reading (default 1d), so\n"
    "                          conversations open at midnight are rebuilt\n";

/* --help's second and third parts: outputs, then outcome (one string would
 * pass C's 4095-byte limit). */
static const char run_usage_outputs[] =
    "  -o, --output FILE       results: .jsonl, .csv or .pb (delimited ResultRecord),\n"
    "                          any of them with .zst appended; repeatable; '-' = stdout JSONL\n"
    "      --output-dir DIR    also (or instead) the files a warehouse loads, one per table:\n"
    "                          shop_day, shop_day_metrics, agent_day, agent_day_metrics,\n"
    "                          violations, alerts, late, dead_letter, typed (ISO dates and\n"
    "                          times), and DIR/manifest.json; DIR is created if missing\n"
    "      --output-format F   the form of --output-dir's files: csv (default), jsonl,\n"
    "                          csv.zst or jsonl.zst\n"
    "      --late FILE         late events (same formats)\n"
    "      --dead-letter FILE  invalid events with reason and source position\n"
    "      --manifest FILE     where the manifest goes (default: FIRST_OUTPUT.manifest.json;\n"
    "                          none when the first output is '-')\n"
    "      --no-manifest       write no manifest\n";

static const char run_usage_outcome[] =
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
    "                          partition, at most one per CPU); 1: one engine. Streaming: the\n"
    "                          partitions' engines are fed on N threads (default: one per CPU)\n"
    "      --metrics-addr HOST:PORT  serve /metrics (Prometheus), /health and /ready there\n"
    "                          while the run lasts (:PORT: every address; port 0: any)\n"
    "      --metrics-file FILE  the same metrics, as they stand when the run ends, into FILE\n"
    "                          (node_exporter's textfile collector)\n"
    "  -q, --quiet             no progress (the summary is always written)\n"
    "      --log-level LEVEL, --log-format text|json, --progress-every DUR: what stderr\n"
    "                          says, and how (global options: replyrate --help)\n"
    "  -h, --help              this message\n"
    "\n"
    "Output files appear under their names only when the run succeeds (exit 0): they\n"
    "are written as .NAME.tmp.PID beside them and renamed at the end, then the manifest\n"
    "(versions, config hash, inputs, each output's records, bytes and sha256) is written.\n"
    "Otherwise nothing is published and an existing file of that name is left as it was.\n"
    "SIGTERM or SIGINT stops the run (a second one at once); a killed run may leave\n"
    ".NAME.tmp.PID files, which nothing reads. See docs/operations.md.\n"
    "\n"
    "On exit a summary is logged on stderr, one JSON line in either log format:\n"
    "  {\"type\":\"summary\",\"ts\":...,\"level\":...,\"component\":\"run\",\"input\":N,\n"
    "   \"applied\":N,\"duplicate\":N,\"late\":N,\"invalid\":N,...,\"unread_bytes\":N,\n"
    "   \"skipped_bytes\":N,\"status\":N,\"reason\":\"...\",\"signal\":\"SIGTERM\"}\n"
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

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end) return -1;
    *out = v;
    return 0;
}

/* --NAME ARG, a duration in [lo, hi] ms (range says so in words), into *ms;
 * else the usage error logged and -1. */
static int duration_opt(const char *name, const char *arg, int64_t lo, int64_t hi,
                        const char *range, int64_t *ms)
{
    char err[256];
    int64_t v = 0;
    int unparsed = rr_config_file_duration(arg, &v, err, sizeof err) < 0;
    if (unparsed || v < lo || v > hi) {
        rr_log(RR_LOG_ERROR, "run", "--%s: '%s': %s", name, arg, unparsed ? err : range);
        return -1;
    }
    *ms = v;
    return 0;
}

/* The command line, as it is parsed: the job it describes, and what only
 * the checks need (which flags were given). */
typedef struct run_flags {
    rr_job_t job;
    const char *inputs[MAX_INPUTS];
    const char *outputs[MAX_OUTPUTS];
    rr_kafka_opts_t ko;
    const char *config_path, *tz_name;
    const char *metrics_addr, *metrics_file;
    int lookback_set, commit_every_set, gates_set, no_manifest, publish_format_set;
    int streaming;
    const char *output_dir, *output_format;
    rr_outdir_t dir; /* --output-dir's files */
    const char *tables[RR_TABLES];
    char manifest_buf[4096];
} run_flags_t;

/* argv into f. 0; 1 after --help (printed); -1 after a usage error (said). */
static int parse_flags(int argc, char **argv, run_flags_t *f)
{
    static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"late", required_argument, NULL, 'L'},
                                         {"dead-letter", required_argument, NULL, 'D'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"timezone", required_argument, NULL, 'z'},
                                         {"now-ms", required_argument, NULL, 'n'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"brokers", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"publish", no_argument, NULL, 'P'},
                                         {"topic-prefix", required_argument, NULL, 'T'},
                                         {"publish-format", required_argument, NULL, 'J'},
                                         {"transactional-id", required_argument, NULL, 'I'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"kafka-config", required_argument, NULL, 'F'},
                                         {"to", required_argument, NULL, 'U'},
                                         {"lookback", required_argument, NULL, 'K'},
                                         {"until-end", no_argument, NULL, 'E'},
                                         {"commit-every", required_argument, NULL, 'C'},
                                         {"instance", required_argument, NULL, 'N'},
                                         {"provisional-every", required_argument, NULL, 'V'},
                                         {"manifest", required_argument, NULL, 'M'},
                                         {"no-manifest", no_argument, NULL, 'm'},
                                         {"allow-empty", no_argument, NULL, 'A'},
                                         {"allow-incomplete", no_argument, NULL, 'W'},
                                         {"max-invalid-ratio", required_argument, NULL, 'R'},
                                         {"resync", no_argument, NULL, 'Y'},
                                         {"metrics-addr", required_argument, NULL, 'Q'},
                                         {"metrics-file", required_argument, NULL, 'G'},
                                         {"output-dir", required_argument, NULL, 'd'},
                                         {"output-format", required_argument, NULL, 'e'},
                                         {NULL, 0, NULL, 0}};
    rr_job_t *job = &f->job;
    char err[512];
    int c;
    int64_t v;
    optind = 1;
    opterr = 0; /* getopt's own messages would bypass the log */
    while ((c = getopt_long(argc, argv, ":i:o:c:j:b:t:g:X:F:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            f->ko.brokers = optarg;
            break;
        case 't':
            job->topic = optarg;
            break;
        case 'g':
            job->group = optarg;
            break;
        case 'P':
            job->publish = 1;
            break;
        case 'T':
            job->prefix = optarg;
            break;
        case 'J':
            if (strcmp(optarg, "pb") && strcmp(optarg, "json")) {
                rr_log(RR_LOG_ERROR, "run", "--publish-format: expected pb or json, got '%s'",
                       optarg);
                return -1;
            }
            job->publish_json = optarg[0] == 'j';
            f->publish_format_set = 1;
            break;
        case 'I':
            job->txn_id = optarg;
            break;
        case 'f':
        case 'U': {
            int y, m, d, k = 0;
            int32_t ymd = 0;
            if (strlen(optarg) == 10 && sscanf(optarg, "%4d-%2d-%2d%n", &y, &m, &d, &k) == 3 &&
                k == 10)
                ymd = y * 10000 + m * 100 + d;
            if (!ymd || rr_yyyymmdd_to_day(ymd) == RR_TZ_BAD_DATE) {
                rr_log(RR_LOG_ERROR, "run", "--%s: expected a date YYYY-MM-DD, got '%s'",
                       c == 'f' ? "from" : "to", optarg);
                return -1;
            }
            *(c == 'f' ? &job->from_ymd : &job->to_ymd) = ymd;
            break;
        }
        case 'K':
            if (duration_opt("lookback", optarg, 0, 31 * RR_DAY_MS, "at most 31d",
                             &job->lookback_ms) < 0)
                return -1;
            f->lookback_set = 1;
            break;
        case 'E':
            job->until_end = 1;
            break;
        case 'C':
            if (duration_opt("commit-every", optarg, 100, 300000, "between 100ms and 5m",
                             &job->commit_every_ms) < 0)
                return -1;
            f->commit_every_set = 1;
            break;
        case 'N':
            job->instance = optarg;
            break;
        case 'M':
            job->manifest_path = optarg;
            break;
        case 'Q':
            f->metrics_addr = optarg;
            break;
        case 'G':
            f->metrics_file = optarg;
            break;
        case 'm':
            f->no_manifest = 1;
            break;
        case 'A':
            job->gates.allow_empty = f->gates_set = 1;
            break;
        case 'Y':
            job->resync = 1;
            break;
        case 'W':
            job->gates.allow_incomplete = f->gates_set = 1;
            break;
        case 'R':
            if (rr_gates_parse_ratio(optarg, &job->gates.max_invalid_ratio) < 0) {
                rr_log(RR_LOG_ERROR, "run",
                       "--max-invalid-ratio: expected a number in 0..1, got '%s'", optarg);
                return -1;
            }
            f->gates_set = 1;
            break;
        case 'V':
            if (duration_opt("provisional-every", optarg, 1000, RR_DAY_MS, "between 1s and 24h",
                             &job->provisional_every_ms) < 0)
                return -1;
            break;
        case 'X':
        case 'F':
            if ((c == 'X' ? rr_kafka_add_prop(&f->ko, optarg, err, sizeof err)
                          : rr_kafka_add_props_file(&f->ko, optarg, err, sizeof err)) < 0) {
                rr_log(RR_LOG_ERROR, "run", "%s", err);
                return -1;
            }
            break;
        case 'i':
            if (job->n_inputs == MAX_INPUTS) {
                rr_log(RR_LOG_ERROR, "run", "more than %d --input files", MAX_INPUTS);
                return -1;
            }
            f->inputs[job->n_inputs++] = optarg;
            break;
        case 'o':
            if (job->n_outputs == MAX_OUTPUTS) {
                rr_log(RR_LOG_ERROR, "run", "more than %d --output files", MAX_OUTPUTS);
                return -1;
            }
            f->outputs[job->n_outputs++] = optarg;
            break;
        case 'd':
            f->output_dir = optarg;
            break;
        case 'e':
            f->output_format = optarg;
            break;
        case 'L':
            job->late_path = optarg;
            break;
        case 'D':
            job->dead_path = optarg;
            break;
        case 'c':
            f->config_path = optarg;
            break;
        case 'z':
            f->tz_name = optarg;
            break;
        case 'n':
            if (parse_i64(optarg, &job->now_ms) < 0) {
                rr_log(RR_LOG_ERROR, "run", "--now-ms: not an integer: '%s'", optarg);
                return -1;
            }
            job->have_now = 1;
            break;
        case 'j':
            if (parse_i64(optarg, &v) < 0 || v < 1 || v > MAX_INPUTS) {
                rr_log(RR_LOG_ERROR, "run", "--threads: expected an integer in 1..%d, got '%s'",
                       MAX_INPUTS, optarg);
                return -1;
            }
            job->threads = (int)v;
            break;
        case 'q':
            job->quiet = 1;
            break;
        case 'h':
            fputs(run_usage, stdout);
            fputs(run_usage_outputs, stdout);
            fputs(run_usage_outcome, stdout);
            return 1;
        case ':':
            rr_log(RR_LOG_ERROR, "run", "option '%s' needs a value", argv[optind - 1]);
            return -1;
        default:
            rr_log(RR_LOG_ERROR, "run", "unknown option '%s' (see replyrate run --help)",
                   argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        rr_log(RR_LOG_ERROR, "run", "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

/* The flags against each other: which mode, and what goes with it. 0, or -1
 * after the usage error (said). */
static int check_flags(run_flags_t *f, int live)
{
    const rr_job_t *job = &f->job;
    const char *topic = job->topic;
    int n_in = job->n_inputs, from = job->from_ymd != 0, to = job->to_ymd != 0;
    int streaming = f->streaming = topic && !job->until_end && !from;
    int stream_flags = f->commit_every_set || job->provisional_every_ms;
    int scaled = job->instance && !streaming; /* a bounded run shared by a group */
    const char *why = NULL;
    if (n_in && (f->ko.brokers || topic))
        why = "--input and --brokers/--topic exclude each other";
    else if (!!f->ko.brokers != !!topic)
        why = topic ? "--topic needs --brokers" : "--brokers needs --topic";
    else if ((!n_in && !topic) || (!job->n_outputs && !f->output_dir && !job->publish)) {
        rr_log(RR_LOG_ERROR, "run", "%s is required (see replyrate run --help)",
               !n_in && !topic ? "--input (or --brokers and --topic)"
                               : "--output, --output-dir or --publish");
        return -1;
    } else if (f->output_dir && (job->late_path || job->dead_path))
        why = "--output-dir writes the late and dead_letter files itself: drop --late and "
              "--dead-letter";
    else if (f->output_format && !f->output_dir)
        why = "--output-format is the form of --output-dir's files: it needs --output-dir";
    else if (f->publish_format_set && !job->publish)
        why = "--publish-format needs --publish";
    else if (job->resync && !n_in)
        why = "--resync is for --input files";
    else if ((job->group || f->ko.n_props || job->publish || from || to) && !topic)
        why = "--group, --publish, --from/--to and -X need --brokers and --topic";
    else if ((job->until_end || stream_flags || job->instance) && !topic)
        why = "--until-end, --instance, --commit-every and --provisional-every need --brokers "
              "and --topic";
    else if (job->until_end && from)
        why = "--until-end and --from/--to exclude each other";
    else if (stream_flags && !streaming)
        why = "--commit-every and --provisional-every are for streaming (not with --until-end or "
              "--from/--to)";
    else if (scaled && !job->publish)
        why = "--instance with --until-end or --from/--to shares the run among the instances of "
              "--group: it needs --publish";
    else if (scaled && (job->n_outputs || f->output_dir || job->late_path || job->dead_path))
        why = "--instance with --until-end or --from/--to publishes to topics only (--output, "
              "--output-dir, --late and --dead-letter would hold a part of the results; "
              "replyrate export reads them back)";
    else if (scaled && live)
        why = "--instance is not for a topic still being written";
    else if (streaming && !job->publish)
        why = "streaming from a topic needs --publish (its transactions carry the state); for a "
              "bounded run to the topic's end add --until-end";
    else if (live && (!topic || !job->until_end))
        why = "a topic still being written is read with --brokers, --topic and --until-end";
    else if (f->lookback_set && !from)
        why = "--lookback needs --from and --to";
    else if (from != to)
        why = "--from and --to go together";
    else if (job->from_ymd > job->to_ymd)
        why = "--from is after --to";
    else if (job->manifest_path && f->no_manifest)
        why = "--manifest and --no-manifest exclude each other";
    else if (streaming && (job->manifest_path || f->gates_set))
        why = "--manifest, --allow-empty, --allow-incomplete and --max-invalid-ratio are for "
              "bounded runs (files, --until-end, --from/--to)";
    if (why) {
        rr_log(RR_LOG_ERROR, "run", "%s", why);
        return -1;
    }
    return 0;
}

/* --output-dir: its format, the directory (created if missing), the paths
 * of its files into the job. 0, or -1 after the usage error (said). */
static int output_dir(run_flags_t *f)
{
    rr_job_t *job = &f->job;
    char err[RR_OUTDIR_PATH_MAX + 128];
    if (rr_outdir_prepare(f->output_dir, f->output_format, &f->dir, err, sizeof err) < 0) {
        rr_log(RR_LOG_ERROR, "run", "%s", err);
        return -1;
    }
    for (int i = 0; i < RR_TABLES; i++)
        f->tables[i] = f->dir.path[i];
    job->tables = f->tables;
    job->late_path = f->dir.path[RR_OUTDIR_LATE];
    job->dead_path = f->dir.path[RR_OUTDIR_DEAD];
    if (!job->manifest_path && !f->no_manifest && !f->streaming) /* as --output's */
        job->manifest_path = f->dir.manifest;
    return 0;
}

/* Every output has a format; the manifest's path; no output destroys an
 * input or another output (refused before anything is opened for writing).
 * 0, or -1 after the usage error (said). */
static int check_outputs(run_flags_t *f)
{
    rr_job_t *job = &f->job;
    char err[512];
    int n_out = job->n_outputs;
    if (f->output_dir && output_dir(f) < 0) return -1;
    for (int i = 0; i < n_out + 2; i++) {
        const char *path = i < n_out ? f->outputs[i] : i == n_out ? job->late_path : job->dead_path;
        rr_format_t fmt;
        if (path && strcmp(path, "-") && rr_format_from_path(path, &fmt, err, sizeof err) < 0) {
            rr_log(RR_LOG_ERROR, "run", "%s", err);
            return -1;
        }
    }
    /* beside the first output unless told otherwise; none for a stream (it
     * has no end to describe) or when results go to stdout */
    if (!job->manifest_path && !f->no_manifest && !f->streaming && n_out &&
        strcmp(f->outputs[0], "-")) {
        snprintf(f->manifest_buf, sizeof f->manifest_buf, "%s.manifest.json", f->outputs[0]);
        job->manifest_path = f->manifest_buf;
    }
    rr_named_path_t in_paths[MAX_INPUTS], out_paths[MAX_OUTPUTS + RR_TABLES + 3];
    size_t n_op = 0;
    for (int i = 0; i < job->n_inputs; i++)
        in_paths[i] = (rr_named_path_t){"--input", f->inputs[i]};
    for (int i = 0; i < n_out; i++)
        out_paths[n_op++] = (rr_named_path_t){"--output", f->outputs[i]};
    for (int i = 0; job->tables && i < RR_TABLES; i++)
        out_paths[n_op++] = (rr_named_path_t){"--output-dir", job->tables[i]};
    out_paths[n_op++] =
        (rr_named_path_t){f->output_dir ? "--output-dir" : "--late", job->late_path};
    out_paths[n_op++] =
        (rr_named_path_t){f->output_dir ? "--output-dir" : "--dead-letter", job->dead_path};
    out_paths[n_op++] = (rr_named_path_t){"--manifest", job->manifest_path};
    if (rr_outpaths_check(in_paths, (size_t)job->n_inputs, out_paths, n_op, err, sizeof err) < 0) {
        rr_log(RR_LOG_ERROR, "run", "%s", err);
        return -1;
    }
    return 0;
}

/* `replyrate run`; with live, over a topic still being written
 * (rr_cmd_run_live). */
static int run_command(int argc, char **argv, rr_kafka_live_t *live)
{
    run_flags_t *f = calloc(1, sizeof *f); /* the input list is large for a stack */
    if (!f) {
        rr_log(RR_LOG_ERROR, "run", "out of memory");
        return 1;
    }
    rr_job_t *job = &f->job;
    rr_job_init(job);
    job->inputs = f->inputs;
    job->outputs = f->outputs;
    job->kafka = &f->ko;
    job->live = live;
    job->version = RR_VERSION;
    int status = 2, rc = parse_flags(argc, argv, f);
    if (rc > 0) status = 0;
    if (rc || check_flags(f, live != NULL) < 0 || check_outputs(f) < 0) goto out;

    rr_config_t cfg;
    char err[1024];
    if (f->config_path) {
        if (rr_config_file_load(f->config_path, &cfg, err, sizeof err) < 0) {
            rr_log(RR_LOG_ERROR, "run", "config: %s", err);
            goto out;
        }
    } else {
        rr_config_default(&cfg);
    }
    if (f->tz_name) snprintf(cfg.timezone, sizeof cfg.timezone, "%s", f->tz_name);
    job->cfg = &cfg;

    rr_tm_set_version(RR_VERSION);
    if (f->metrics_addr) {
        int port;
        if (rr_tm_serve(f->metrics_addr, &port, err, sizeof err) < 0) {
            rr_log(RR_LOG_ERROR, "run", "%s", err);
            goto out;
        }
        rr_log(RR_LOG_INFO, "metrics", "serving /metrics, /health and /ready on port %d", port);
    }
    rr_job_result_t res;
    status = rr_job_run(job, &res, err, sizeof err);
    /* the run's last numbers; its results stand whether or not this works */
    char merr[512];
    if (f->metrics_file && rr_tm_write_file(f->metrics_file, merr, sizeof merr) < 0)
        rr_log(RR_LOG_ERROR, "metrics", "--metrics-file %s", merr);
    rr_tm_shutdown();
    rr_log_status(NULL); /* the progress line, if one is left, goes with the run */
    if (err[0]) rr_log(RR_LOG_ERROR, "run", "%s", err);
    if (res.summary) { /* whatever the level: scripts wait for it */
        char fields[RR_SUMMARY_MAX];
        rr_summary_format(&res.outcome, fields, sizeof fields);
        rr_log_event(RR_LOG_SUMMARY | (res.outcome.status ? RR_LOG_ERROR : RR_LOG_INFO), "run",
                     "summary", "%s", fields);
    }
out:
    rr_kafka_opts_free(&f->ko);
    free(f);
    return status;
}

int rr_cmd_run(int argc, char **argv)
{
    return run_command(argc, argv, NULL);
}

int rr_cmd_run_live(int argc, char **argv, rr_kafka_live_t *live)
{
    int status = run_command(argc, argv, live);
    rr_kafka_live_over(live); /* also when a usage error stopped it before the job */
    return status;
}
