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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "codec/output.h"
#include "engine/tz.h"
#include "io/feed.h"
#include "io/readahead.h"
#include "io/source.h"
#include "io/tzload.h"
#include "cli/run_kafka.h"
#include "cli/run_shards.h"
#include "cli/run_stream.h"
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
    "                          conversations open at midnight are rebuilt\n"
    "      --allow-incomplete  --until-end, --from/--to: records of the topic deleted\n"
    "                          (retention, DeleteRecords) before or during the run are\n"
    "                          counted (missing_records) and said on stderr, not status 3\n"
    "  -o, --output FILE       results: .jsonl, .csv or .pb (delimited ResultRecord),\n"
    "                          any of them with .zst appended; repeatable; '-' = stdout JSONL\n"
    "      --late FILE         late events (same formats)\n"
    "      --dead-letter FILE  invalid events with reason and source position\n"
    "  -c, --config FILE       metrics, alerts and job settings (docs/config.md)\n"
    "      --timezone ZONE     IANA time zone (overrides the config; default Asia/Shanghai)\n"
    "      --now-ms MS         wall clock to judge events against (default: the real clock)\n"
    "  -j, --threads N         shards: the input files (a bounded run: the topic's partitions)\n"
    "                          are dealt to N engines on N threads (default: one per file or\n"
    "                          partition, at most one per CPU); 1: one engine\n"
    "  -q, --quiet             no progress on stderr (the summary line is always printed)\n"
    "  -h, --help              this message\n";

/* C11 promises string literals of 4095 bytes: the usage comes in two */
static const char run_usage_end[] =
    "\n"
    "On exit one JSON summary line goes to stderr:\n"
    "  {\"type\":\"summary\",\"input\":N,\"applied\":N,\"duplicate\":N,\"late\":N,\"invalid\":N,...}\n"
    "Exit status: 0 ok, 1 runtime error (unreadable input, failed write), 2 usage or config\n"
    "error, 3 incomplete input (Kafka records the run needs were deleted; nothing published),\n"
    "128+N stopped by signal N (130 SIGINT, 143 SIGTERM; nothing published).\n";

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
} fanout_t;

static int day_out(const fanout_t *f, int32_t ymd)
{
    return f->from_ymd && (ymd < f->from_ymd || ymd > f->to_ymd);
}

static void fan_day(void *o, const rr_day_record_t *r)
{
    fanout_t *f = o;
    if (day_out(f, r->day))
        return;
    for (int i = 0; i < f->n_out; i++)
        f->out[i].day(f->out[i].opaque, r);
    if (f->has_pub)
        f->pub.day(f->pub.opaque, r);
}

static void fan_violation(void *o, const rr_violation_record_t *r)
{
    fanout_t *f = o;
    if (day_out(f, r->day))
        return;
    for (int i = 0; i < f->n_out; i++)
        f->out[i].violation(f->out[i].opaque, r);
    if (f->has_pub)
        f->pub.violation(f->pub.opaque, r);
}

static void fan_alert(void *o, const rr_alert_record_t *r)
{
    fanout_t *f = o;
    if (day_out(f, r->day))
        return;
    for (int i = 0; i < f->n_out; i++)
        f->out[i].alert(f->out[i].opaque, r);
    if (f->has_pub)
        f->pub.alert(f->pub.opaque, r);
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

void rr_print_progress(uint64_t input, double elapsed_s, uint64_t open_convs, uint64_t open_days)
{
    fprintf(stderr,
            "{\"type\":\"progress\",\"input\":%llu,\"events_per_s\":%.0f,"
            "\"open_conversations\":%llu,\"open_days\":%llu}\n",
            (unsigned long long)input, elapsed_s > 0 ? (double)input / elapsed_s : 0.0,
            (unsigned long long)open_convs, (unsigned long long)open_days);
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
    int unparsed = rr_config_parse_duration(arg, &v, err, sizeof err) < 0;
    if (unparsed || v < lo || v > hi) {
        fprintf(stderr, "replyrate run: --%s: '%s': %s\n", name, arg, unparsed ? err : range);
        return -1;
    }
    *ms = v;
    return 0;
}

static volatile sig_atomic_t stop_requested; /* the signal's number */

static void on_stop_signal(int sig)
{
    stop_requested = sig;
}

int rr_cmd_run(int argc, char **argv)
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
        {"allow-incomplete", no_argument, NULL, 'A'}, {NULL, 0, NULL, 0}};
    const char *inputs[MAX_INPUTS];
    const char *outputs[MAX_OUTPUTS];
    int n_in = 0, n_outp = 0, quiet = 0;
    const char *late_path = NULL, *dead_path = NULL, *config_path = NULL, *tz_name = NULL;
    int64_t now_fixed = 0, threads = 0;
    int have_now = 0;
    rr_kafka_opts_t ko = {0};
    const char *topic = NULL, *group = NULL, *prefix = "replyrate", *txn_id = NULL;
    int publish = 0;
    rr_kafka_sink_t *pub = NULL;
    int32_t from_ymd = 0, to_ymd = 0;
    int64_t lookback_ms = RR_DAY_MS;
    int lookback_set = 0, until_end = 0, allow_incomplete = 0;
    int64_t commit_every_ms = 10000;
    int commit_every_set = 0;
    int64_t provisional_every_ms = 0;
    const char *instance = NULL;
    char err[512];
    int c;
    optind = 1;
    stop_requested = 0;
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
        case 'A':
            allow_incomplete = 1;
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
            fputs(run_usage_end, stdout);
            return 0;
        default:
            fputs(run_usage, stderr);
            fputs(run_usage_end, stderr);
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
        fprintf(stderr, "replyrate run: %s is required\n\n%s",
                !n_in && !topic ? "--input (or --brokers and --topic)" : "--output (or --publish)",
                run_usage);
        fputs(run_usage_end, stderr);
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
    if (allow_incomplete && !until_end && !from_ymd) {
        fprintf(stderr, "replyrate run: --allow-incomplete is for bounded Kafka runs "
                        "(--until-end or --from/--to)\n");
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
    rr_config_t cfg;
    if (config_path) {
        if (rr_config_load_file(config_path, &cfg, err, sizeof err) < 0) {
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
    rr_output_t *outs[MAX_OUTPUTS] = {0};
    rr_output_t *late_out = NULL, *dead_out = NULL;
    rr_source_t *src[MAX_INPUTS] = {0};
    int part[MAX_INPUTS];
    rr_readahead_t *ra = NULL;
    fanout_t fan = {0};
    rr_stats_t st;
    double elapsed;
    uint64_t missing_records = 0;
    /* a bounded Kafka run stops on SIGINT/SIGTERM with nothing published; a
     * second signal ends the process at once (SA_RESETHAND): still nothing */
    struct sigaction stop_sa = {0}, stop_old_int, stop_old_term;
    int stop_installed = 0;

    if (rr_tz_load(cfg.timezone, &tz, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate run: %s\n", err);
        status = 2;
        goto out;
    }
    for (int i = 0; i < n_outp; i++) {
        if (rr_output_open(outputs[i], &outs[i], err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: %s\n", err);
            goto out;
        }
        rr_output_sink(outs[i], &fan.out[fan.n_out++]);
    }
    if (late_path) {
        if (rr_output_open(late_path, &late_out, err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: --late: %s\n", err);
            goto out;
        }
        rr_output_sink(late_out, &fan.late);
        fan.has_late = 1;
    }
    if (dead_path) {
        if (rr_output_open(dead_path, &dead_out, err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: --dead-letter: %s\n", err);
            goto out;
        }
        rr_output_sink(dead_out, &fan.dead);
        fan.has_dead = 1;
    }
    rr_sink_t sink = {.opaque = &fan,
                      .day = fan_day,
                      .violation = fan_violation,
                      .alert = fan_alert,
                      .rejected = fan_rejected};
    for (int i = 0; i < n_in; i++) {
        if (rr_source_open(inputs[i], &src[i], err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: %s\n", err);
            goto out;
        }
    }
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
        if (!streaming) {
            stop_sa.sa_handler = on_stop_signal;
            stop_sa.sa_flags = SA_RESETHAND;
            sigemptyset(&stop_sa.sa_mask);
            sigaction(SIGINT, &stop_sa, &stop_old_int);
            sigaction(SIGTERM, &stop_sa, &stop_old_term);
            stop_installed = 1;
        }
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
                goto out;
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
                                  .stop = &stop_requested};
            struct sigaction sa = {0}, old_int, old_term;
            sa.sa_handler = on_stop_signal;
            sigemptyset(&sa.sa_mask);
            sigaction(SIGINT, &sa, &old_int);
            sigaction(SIGTERM, &sa, &old_term);
            status = rr_run_stream(&sr);
            sigaction(SIGINT, &old_int, NULL);
            sigaction(SIGTERM, &old_term, NULL);
            if (status) {
                fprintf(stderr, "replyrate run: %s%s\n", sr.err,
                        rr_kafka_sink_fenced(pub)
                            ? " (fenced: another instance runs with the same --instance)"
                            : "");
                goto out;
            }
            st = sr.stats;
            elapsed = sr.seconds;
            goto close_outputs;
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
                             .quiet = quiet,
                             .allow_incomplete = allow_incomplete,
                             .stop = &stop_requested};
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
        status = rr_run_kafka(&kr);
        free(kr.range_offsets);
        kr.range_offsets = NULL;
        missing_records = kr.missing_records;
        if (status == 3 || status > 128) { /* the summary says what was read and missed */
            if (status == 3)
                fprintf(stderr, "replyrate run: %s\n", kr.err);
            st = kr.stats;
            elapsed = kr.seconds;
            goto close_outputs;
        }
        if (status) {
            fprintf(stderr, "replyrate run: %s\n", kr.err);
            goto out; /* no summary of a run that did not read its input or publish */
        }
        elapsed = kr.seconds;
        st = kr.stats;
        if (kr.engine_error[0]) {
            fprintf(stderr, "replyrate run: %s\n", kr.engine_error);
            status = 1;
        }
        goto close_outputs;
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
                              .quiet = quiet};
        status = rr_run_shards(&run);
        if (status == 2)
            goto out;
        st = run.stats;
        elapsed = run.seconds;
        if (run.input_failed)
            goto out; /* named on stderr; no summary of a run that did not read its input */
        goto close_outputs; /* status 1 if an engine ran out of memory, as below */
    }
    status = 1;
    for (int i = 0; i < n_in; i++) {
        part[i] = rr_engine_add_partition(eng, inputs[i]);
        if (part[i] < 0) {
            fprintf(stderr, "replyrate run: out of memory\n");
            goto out;
        }
    }

    /* Reading (read(2), zstd, framing) runs on a reader thread, a few batches
     * ahead, in exactly the order this loop would read (io/readahead.h). */
    if (rr_readahead_start(src, n_in, BATCH, &ra, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate run: %s\n", err);
        goto out;
    }
    double t0 = rr_mono_s(), next_progress = t0 + 5;
    int64_t now = have_now ? now_fixed : rr_now_ms();
    for (;;) {
        rr_readahead_item_t it;
        rr_readahead_next(ra, &it);
        if (it.kind == RR_READAHEAD_DONE)
            break;
        if (it.kind == RR_READAHEAD_ERROR) {
            fprintf(stderr, "replyrate run: %s\n", it.error);
            goto out;
        }
        if (it.kind == RR_READAHEAD_END) {
            rr_engine_partition_end(eng, part[it.which]);
            continue;
        }
        if (!have_now)
            now = rr_now_ms();
        rr_feed_records(eng, part[it.which], it.recs, it.n, now, NULL);
        if (!quiet && rr_mono_s() > next_progress) {
            rr_stats_t now_st;
            rr_engine_stats(eng, &now_st);
            rr_print_progress(now_st.input, rr_mono_s() - t0, now_st.open_conversations,
                              now_st.open_days);
            next_progress += 5;
        }
    }
    rr_readahead_stop(ra);
    ra = NULL;
    rr_engine_finish(eng);
    elapsed = rr_mono_s() - t0;

    status = 0;
    if (rr_engine_error(eng)) {
        fprintf(stderr, "replyrate run: %s\n", rr_engine_error(eng));
        status = 1;
    }
    rr_engine_stats(eng, &st);
close_outputs:
    for (int i = 0; i < n_outp; i++) {
        if (rr_output_close(outs[i], err, sizeof err) < 0) {
            fprintf(stderr, "replyrate run: %s\n", err);
            status = 1;
        }
        outs[i] = NULL;
    }
    if (late_out && rr_output_close(late_out, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate run: --late: %s\n", err);
        status = 1;
    }
    late_out = NULL;
    if (dead_out && rr_output_close(dead_out, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate run: --dead-letter: %s\n", err);
        status = 1;
    }
    dead_out = NULL;

    fprintf(stderr,
            "{\"type\":\"summary\",\"input\":%llu,\"applied\":%llu,\"duplicate\":%llu,"
            "\"late\":%llu,\"invalid\":%llu,\"shop_days\":%llu,\"agent_days\":%llu,"
            "\"violations\":%llu,\"alerts\":%llu,\"peak_open_conversations\":%llu,"
            "\"peak_active_conversations\":%llu,"
            "\"evicted_conversations\":%llu,\"shops_in_several_partitions\":%llu,"
            "\"seconds\":%.3f,\"events_per_s\":%.0f,\"missing_records\":%llu,"
            "\"status\":%d%s%s%s%s}\n",
            (unsigned long long)st.input, (unsigned long long)st.applied,
            (unsigned long long)st.duplicate, (unsigned long long)st.late,
            (unsigned long long)st.invalid, (unsigned long long)st.shop_days,
            (unsigned long long)st.agent_days, (unsigned long long)st.violations,
            (unsigned long long)st.alerts, (unsigned long long)st.peak_open_conversations,
            (unsigned long long)st.peak_active_conversations,
            (unsigned long long)st.evicted_conversations,
            (unsigned long long)st.shops_in_several_partitions, elapsed,
            elapsed > 0 ? (double)st.input / elapsed : 0.0, (unsigned long long)missing_records,
            status, status == 3 ? ",\"reason\":\"incomplete_input\"" : "",
            status > 128 ? ",\"reason\":\"signal\",\"signal\":\"" : "",
            status == 128 + SIGINT    ? "SIGINT"
            : status == 128 + SIGTERM ? "SIGTERM"
            : status > 128            ? "?"
                                      : "",
            status > 128 ? "\"" : "");

out:
    rr_readahead_stop(ra); /* before the sources it reads */
    for (int i = 0; i < n_in; i++)
        if (src[i])
            rr_source_close(src[i]);
    for (int i = 0; i < n_outp; i++)
        if (outs[i])
            rr_output_close(outs[i], err, sizeof err);
    if (late_out)
        rr_output_close(late_out, err, sizeof err);
    if (dead_out)
        rr_output_close(dead_out, err, sizeof err);
    rr_engine_free(eng);
    rr_kafka_sink_close(pub); /* aborts what was not committed */
    if (stop_installed) {
        sigaction(SIGINT, &stop_old_int, NULL);
        sigaction(SIGTERM, &stop_old_term, NULL);
    }
    rr_tz_free(tz);
    return status;
}
