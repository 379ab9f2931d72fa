/* cli/cmd_gen.c: `replyrate gen`, synthetic traffic into delimited ChatEvent
 * files or a Kafka topic (src/gen/gen.h is the model, src/io/filesink.h and
 * cli/gen_topic.h the writers, cli/gen_summary.h its summary). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/gen_summary.h"
#include "cli/gen_topic.h"
#include "pipeline/outpaths.h"
#include "io/tmpfile.h"
#include "ops/log.h"
#include "ops/stop.h"
#include "codec/encode.h"
#include "gen/gen.h"
#include "io/kafka_events.h"
#include "io/filesink.h"

static const char usage[] =
    "usage: replyrate gen --output FILE [--output FILE ...] [OPTIONS]\n"
    "       replyrate gen --brokers HOST:PORT --topic NAME [OPTIONS]\n"
    "\n"
    "Writes realistic synthetic chat traffic (SPEC §2 ChatEvents, delimited) in\n"
    "arrival order. The same options write the same bytes.\n"
    "\n"
    "  -o, --output FILE       .pb (plain), .pb.zst (zstd level 3) or - (stdout);\n"
    "                          repeated: the stream split by shop into that many\n"
    "                          files (partitions), each in arrival order\n"
    "  -b, --brokers LIST      produce to a Kafka topic instead, partitioned by shop\n"
    "                          as the files are split (docs/kafka.md), keyed by shop id\n"
    "  -t, --topic NAME        the topic (created with --partitions if absent, keeping\n"
    "                          every record: retention.ms=-1, retention.bytes=-1;\n"
    "                          an existing topic whose retention would delete the\n"
    "                          records, stamped with their event times, is warned of)\n"
    "      --partitions N      partitions of a topic created (default 6)\n"
    "  -X KEY=VALUE            any librdkafka producer property; repeatable\n"
    "  -F, --kafka-config FILE librdkafka properties, one key=value a line (# comments),\n"
    "                          ${NAME} expanded from the environment; repeatable\n"
    "  -n, --events N          model events, exactly (default 1000000); knob\n"
    "                          records (duplicates, invalid, garbage) come on top\n"
    "      --days N            days of traffic (default 1)\n"
    "      --start-day DATE    first local day, YYYY-MM-DD (default 2026-11-22;\n"
    "                          local time is Asia/Shanghai, UTC+8)\n"
    "      --shops N           shops (default: events / days / 2000, at least 1)\n"
    "      --top-shop-share S  the biggest shop's share of the conversations, 0..0.95\n"
    "                          (default 0: shop sizes follow a zipf law)\n"
    "      --brief-share S     share of conversations that are one question, 0..1\n"
    "                          (default 0): straight to the human queue, one answer\n"
    "                          or none, no session events, open until the ttl; 1\n"
    "                          makes a state-heavy day, about 3 events a conversation\n"
    "      --seed N            random seed (default 1)\n"
    "\n"
    "delivery knobs, each a share of model events in 0..1 (default 0, sum <= 1);\n"
    "they do not change the conversations themselves:\n"
    "      --duplicate-rate R  delivered twice with the same event_id\n"
    "      --disorder-rate R   delivered up to --disorder-ms behind later events\n"
    "      --disorder-ms MS    1..5000, below the allowed lateness (default 4000)\n"
    "      --late-rate R       delivered more than 5 s behind the stream: late\n"
    "      --invalid-rate R    followed by an invalid copy (SPEC §7 kinds)\n"
    "      --garbage-rate R    followed by an undecodable record\n"
    "      --redeliver-rate R  delivered again with the same event_id, stamped anew\n"
    "                          20 min to --redeliver-max-delay later\n"
    "      --redeliver-max-delay DURATION  20min..7d (default 5h)\n"
    "\n"
    "conversation lives and time jumps (SPEC §3 Lifetime, §7), default off:\n"
    "      --resume-rate R     share of conversations that speak again under their\n"
    "                          id: while they live, just before and just after they\n"
    "                          are over, or hours later\n"
    "      --conversation-ttl DURATION  the engine's conversation_ttl the resumes\n"
    "                          are placed around (default 6h)\n"
    "      --stale-events N    N buyer messages 2 days to 3 years old in front\n"
    "      --jump-days N       from --jump-at-hour on, every ts is N (2..3660) days later\n"
    "      --jump-at-hour N    hours after the first local midnight (default 24)\n"
    "\n"
    "      --zstd-level N      compress at zstd level N (0: by the file name)\n"
    "      --zstd-workers N    zstd worker threads (default 0: compress inline)\n"
    "  -h, --help              show this message\n"
    "\n"
    "Files appear under their names only when all are complete (written as\n"
    ".NAME.tmp.PID beside them, then renamed); SIGTERM or SIGINT removes them and\n"
    "exits 128+N. A summary is logged on stderr (one JSON line in either log format:\n"
    "{\"type\":\"gen_summary\",...}). Exit status: 0 ok,\n"
    "1 runtime error, 2 usage error.\n";

enum {
    OPT_DAYS = 256,
    OPT_START_DAY,
    OPT_SHOPS,
    OPT_TOP_SHOP,
    OPT_SEED,
    OPT_DUP,
    OPT_DISORDER,
    OPT_DISORDER_MS,
    OPT_LATE,
    OPT_INVALID,
    OPT_GARBAGE,
    OPT_ZSTD_LEVEL,
    OPT_ZSTD_WORKERS,
    OPT_PARTITIONS,
    OPT_REDELIVER,
    OPT_REDELIVER_MAX_DELAY,
    OPT_RESUME,
    OPT_CONVERSATION_TTL,
    OPT_STALE,
    OPT_JUMP_DAYS,
    OPT_JUMP_AT_HOUR,
    OPT_BRIEF,
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"kafka-config", required_argument, NULL, 'F'},
    {"events", required_argument, NULL, 'n'},
    {"days", required_argument, NULL, OPT_DAYS},
    {"start-day", required_argument, NULL, OPT_START_DAY},
    {"shops", required_argument, NULL, OPT_SHOPS},
    {"top-shop-share", required_argument, NULL, OPT_TOP_SHOP},
    {"seed", required_argument, NULL, OPT_SEED},
    {"brief-share", required_argument, NULL, OPT_BRIEF},
    {"duplicate-rate", required_argument, NULL, OPT_DUP},
    {"disorder-rate", required_argument, NULL, OPT_DISORDER},
    {"disorder-ms", required_argument, NULL, OPT_DISORDER_MS},
    {"late-rate", required_argument, NULL, OPT_LATE},
    {"invalid-rate", required_argument, NULL, OPT_INVALID},
    {"garbage-rate", required_argument, NULL, OPT_GARBAGE},
    {"redeliver-rate", required_argument, NULL, OPT_REDELIVER},
    {"redeliver-max-delay", required_argument, NULL, OPT_REDELIVER_MAX_DELAY},
    {"resume-rate", required_argument, NULL, OPT_RESUME},
    {"conversation-ttl", required_argument, NULL, OPT_CONVERSATION_TTL},
    {"stale-events", required_argument, NULL, OPT_STALE},
    {"jump-days", required_argument, NULL, OPT_JUMP_DAYS},
    {"jump-at-hour", required_argument, NULL, OPT_JUMP_AT_HOUR},
    {"zstd-level", required_argument, NULL, OPT_ZSTD_LEVEL},
    {"zstd-workers", required_argument, NULL, OPT_ZSTD_WORKERS},
    {"brokers", required_argument, NULL, 'b'},
    {"topic", required_argument, NULL, 't'},
    {"partitions", required_argument, NULL, OPT_PARTITIONS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int bad_value(const char *flag, const char *value, const char *expected)
{
    rr_log(RR_LOG_ERROR, "gen", "invalid value '%s' for --%s: expected %s", value, flag, expected);
    return 2;
}

/* Unsigned decimal in [lo, hi], the whole string. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+' || *s == ' ') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!*s || *s == ' ') return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_rate(const char *s, double *out)
{
    if (!*s || *s == ' ') return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0 || v > 1) return -1;
    *out = v;
    return 0;
}

/* YYYY-MM-DD into YYYYMMDD; the calendar check is rr_gen_opts_check's. */
static int parse_day(const char *s, int32_t *out)
{
    int y, m, d, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10) return -1;
    *out = y * 10000 + m * 100 + d;
    return 0;
}

/* The knob rate an option sets (the options of `usage` in 0..1). */
static double *knob_rate(rr_gen_opts_t *o, int opt)
{
    switch (opt) {
    case OPT_DUP:
        return &o->duplicate_rate;
    case OPT_DISORDER:
        return &o->disorder_rate;
    case OPT_LATE:
        return &o->late_rate;
    case OPT_INVALID:
        return &o->invalid_rate;
    case OPT_GARBAGE:
        return &o->garbage_rate;
    case OPT_REDELIVER:
        return &o->redeliver_rate;
    default: /* OPT_RESUME */
        return &o->resume_rate;
    }
}

#define MAX_GEN_OUTPUTS 256

typedef struct gen_ctx {
    rr_filesink_t *fs[MAX_GEN_OUTPUTS];
    uint32_t n;
    uint32_t last; /* partition of the last event: an undecodable record follows it there */
} gen_ctx_t;

static int emit_event(void *opaque, const rr_event_t *ev)
{
    gen_ctx_t *c = opaque;
    uint8_t buf[RR_EVENT_DELIMITED_MAX_BYTES];
    c->last = c->n > 1 ? rr_shop_partition(ev->shop_id, c->n) : 0;
    size_t n = rr_encode_event_delimited(ev, buf);
    return rr_filesink_write(c->fs[c->last], buf, n);
}

static int emit_raw(void *opaque, const uint8_t *msg, size_t len)
{
    gen_ctx_t *c = opaque;
    /* one write per record: a zstd frame may end after any write (io/filesink.h) */
    uint8_t rec[10 + 64];
    size_t h = rr_encode_varint(len, rec);
    if (len > sizeof rec - h) return -1; /* gen's garbage records are a few bytes */
    memcpy(rec + h, msg, len);
    return rr_filesink_write(c->fs[c->last], rec, h + len);
}

static int gen_command(int argc, char **argv, rr_kafka_opts_t *ko)
{
    rr_gen_opts_t o;
    rr_gen_opts_default(&o);
    const char *outputs[MAX_GEN_OUTPUTS];
    uint32_t n_out = 0;
    int64_t zlevel = 0, zworkers = 0;
    uint64_t u, partitions = 6;
    char err[512];
    const char *topic = NULL;

    opterr = 0;
#ifdef __GLIBC__
    optind = 0; /* full reset, even if main used getopt */
#else
    optind = 1;
#endif
    int c;
    int li = 0; /* the long option's index, for its name */
    while ((c = getopt_long(argc, argv, ":o:n:b:t:X:F:h", long_opts, &li)) != -1) {
        const char *a = optarg;
        switch (c) {
        case 'b':
            ko->brokers = a;
            break;
        case 't':
            topic = a;
            break;
        case 'X':
        case 'F':
            if ((c == 'X' ? rr_kafka_add_prop(ko, a, err, sizeof err)
                          : rr_kafka_add_props_file(ko, a, err, sizeof err)) < 0) {
                rr_log(RR_LOG_ERROR, "gen", "%s", err);
                return 2;
            }
            break;
        case OPT_PARTITIONS:
            if (parse_u64(a, 1, 100000, &partitions))
                return bad_value("partitions", a, "an integer in 1..100000");
            break;
        case 'o':
            if (n_out == MAX_GEN_OUTPUTS) {
                rr_log(RR_LOG_ERROR, "gen", "at most %d --output files", MAX_GEN_OUTPUTS);
                return 2;
            }
            outputs[n_out++] = a;
            break;
        case 'n':
            if (parse_u64(a, 1, UINT64_C(1) << 40, &o.events))
                return bad_value("events", a, "an integer in 1..2^40");
            break;
        case OPT_DAYS:
            if (parse_u64(a, 1, 3660, &u)) return bad_value("days", a, "an integer in 1..3660");
            o.days = (uint32_t)u;
            break;
        case OPT_START_DAY: {
            rr_gen_opts_t t;
            rr_gen_opts_default(&t);
            if (parse_day(a, &t.start_day) || rr_gen_opts_check(&t, NULL, 0))
                return bad_value("start-day", a, "a date YYYY-MM-DD in 1971..9990");
            o.start_day = t.start_day;
            break;
        }
        case OPT_SHOPS:
            if (parse_u64(a, 1, 10000000, &u))
                return bad_value("shops", a, "an integer in 1..10000000");
            o.shops = (uint32_t)u;
            break;
        case OPT_TOP_SHOP:
            if (parse_rate(a, &o.top_shop_share) || o.top_shop_share > 0.95)
                return bad_value("top-shop-share", a, "a number in 0..0.95");
            break;
        case OPT_BRIEF:
            if (parse_rate(a, &o.brief_share))
                return bad_value("brief-share", a, "a number in 0..1");
            break;
        case OPT_SEED:
            if (parse_u64(a, 0, UINT64_MAX, &o.seed))
                return bad_value("seed", a, "an unsigned 64-bit integer");
            break;
        case OPT_DUP:
        case OPT_DISORDER:
        case OPT_LATE:
        case OPT_INVALID:
        case OPT_GARBAGE:
        case OPT_REDELIVER:
        case OPT_RESUME:
            if (parse_rate(a, knob_rate(&o, c)))
                return bad_value(long_opts[li].name, a, "a number in 0..1");
            break;
        case OPT_DISORDER_MS:
            if (parse_i64(a, 1, 5000, &o.disorder_ms))
                return bad_value("disorder-ms", a, "an integer in 1..5000");
            break;
        case OPT_REDELIVER_MAX_DELAY: /* the ranges: rr_gen_opts_check */
        case OPT_CONVERSATION_TTL:
            if (rr_config_file_duration(a,
                                        c == OPT_CONVERSATION_TTL ? &o.conversation_ttl_ms
                                                                  : &o.redeliver_max_delay_ms,
                                        err, sizeof err))
                return bad_value(long_opts[li].name, a, "a duration such as 5h or 90min");
            break;
        case OPT_STALE:
            if (parse_u64(a, 0, 1000000, &u))
                return bad_value("stale-events", a, "an integer in 0..1000000");
            o.stale_events = (uint32_t)u;
            break;
        case OPT_JUMP_DAYS:
            if (parse_u64(a, 0, 3660, &u) || u == 1)
                return bad_value("jump-days", a, "0 or an integer in 2..3660");
            o.jump_days = (uint32_t)u;
            break;
        case OPT_JUMP_AT_HOUR:
            if (parse_u64(a, 1, 87840, &u))
                return bad_value("jump-at-hour", a, "an integer in 1..87840");
            o.jump_at_hour = (uint32_t)u;
            break;
        case OPT_ZSTD_LEVEL:
            if (parse_i64(a, -131072, 22, &zlevel))
                return bad_value("zstd-level", a, "a zstd level, at most 22 (0: by file name)");
            break;
        case OPT_ZSTD_WORKERS:
            if (parse_i64(a, 0, 200, &zworkers))
                return bad_value("zstd-workers", a, "an integer in 0..200");
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case ':':
            rr_log(RR_LOG_ERROR, "gen", "option '%s' needs a value", argv[optind - 1]);
            return 2;
        default:
            rr_log(RR_LOG_ERROR, "gen", "unknown option '%s' (see replyrate gen --help)",
                   argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        rr_log(RR_LOG_ERROR, "gen", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!!ko->brokers != !!topic) {
        rr_log(RR_LOG_ERROR, "gen", "%s needs %s", topic ? "--topic" : "--brokers",
               topic ? "--brokers" : "--topic");
        return 2;
    }
    if (topic && n_out) {
        rr_log(RR_LOG_ERROR, "gen", "--output and --brokers/--topic exclude each other");
        return 2;
    }
    if (!n_out && !topic) {
        rr_log(RR_LOG_ERROR, "gen",
               "--output FILE (or --brokers and --topic) is required (see replyrate gen --help)");
        return 2;
    }
    for (uint32_t i = 0; i < n_out; i++) {
        if (!strcmp(outputs[i], "-") && (n_out > 1 || isatty(STDOUT_FILENO))) {
            rr_log(RR_LOG_ERROR, "gen", "--output -: %s",
                   n_out > 1 ? "stdout cannot be one of several partitions"
                             : "refusing to write binary data to a terminal");
            return 2;
        }
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(outputs[i], outputs[j])) {
                rr_log(RR_LOG_ERROR, "gen", "--output %s given twice", outputs[i]);
                return 2;
            }
    }
    { /* a.pb and ./a.pb, or a link to it: one file, two writers */
        rr_named_path_t named[MAX_GEN_OUTPUTS];
        for (uint32_t i = 0; i < n_out; i++)
            named[i] = (rr_named_path_t){"--output", outputs[i]};
        if (rr_outpaths_check(NULL, 0, named, n_out, err, sizeof err) < 0) {
            rr_log(RR_LOG_ERROR, "gen", "%s", err);
            return 2;
        }
    }
    gen_ctx_t ctx = {.n = n_out};
    rr_gen_topic_t kafka = {.who = "gen"};
    if (o.garbage_rate > 0) o.emit_raw = topic ? rr_gen_topic_raw : emit_raw;
    rr_gen_stats_t st;
    o.stats = &st;
    if (rr_gen_opts_check(&o, err, sizeof err)) {
        rr_log(RR_LOG_ERROR, "gen", "%s", err);
        return 2;
    }

    double t0 = rr_mono_s();
    if (topic) {
        int orc =
            rr_event_producer_open(ko, topic, (int)partitions, 1, &kafka.prod, err, sizeof err);
        if (orc < 0) {
            rr_log(RR_LOG_ERROR, "gen", "%s", err);
            return orc == -2 ? 2 : 1;
        }
        ctx.n = (uint32_t)rr_event_producer_partitions(kafka.prod);
    }
    /* The files appear under their names only when all are complete; a
     * signal removes them and ends gen at once (ops/stop.h). */
    if (n_out) rr_stop_install(RR_STOP_EXIT, rr_tmpfile_discard_all_signal_safe);
    for (uint32_t i = 0; i < n_out; i++) {
        if (rr_filesink_open(outputs[i], (int)zlevel, &ctx.fs[i], err, sizeof err) ||
            (zworkers && rr_filesink_set_workers(ctx.fs[i], (int)zworkers, err, sizeof err))) {
            rr_log(RR_LOG_ERROR, "gen", "%s%s", ctx.fs[i] ? "--zstd-workers: " : "", err);
            for (uint32_t j = 0; j <= i; j++)
                rr_filesink_abort(ctx.fs[j]);
            rr_stop_settle();
            return 1;
        }
    }
    int rc = topic ? rr_gen_run(&o, rr_gen_topic_event, &kafka, err, sizeof err)
                   : rr_gen_run(&o, emit_event, &ctx, err, sizeof err);
    uint64_t stream_bytes = kafka.stream_bytes;
    char cerr[512] = "";
    int crc = 0;
    if (kafka.prod) crc = rr_event_producer_close(kafka.prod, NULL, cerr, sizeof cerr) < 0;
    for (uint32_t i = 0; i < n_out; i++) {
        stream_bytes += rr_filesink_bytes_in(ctx.fs[i]);
        if (!crc && rr_filesink_finish(ctx.fs[i], cerr, sizeof cerr)) /* says why it failed */
            crc = 1;
    }
    /* all published, or none: a signal while the files are renamed waits */
    rr_stop_hold(1);
    for (uint32_t i = 0; i < n_out; i++) {
        if (crc || rc)
            rr_filesink_abort(ctx.fs[i]);
        else if (rr_filesink_close(ctx.fs[i], cerr, sizeof cerr))
            crc = 1;
    }
    /* decided: a signal from here on changes nothing */
    rr_stop_settle();
    if (crc) { /* the writer's error explains a stopped run best */
        rr_log(RR_LOG_ERROR, "gen", "%s", cerr);
        return 1;
    }
    if (rc) {
        rr_log(RR_LOG_ERROR, "gen", "%s", kafka.err[0] ? kafka.err : err);
        return 1;
    }
    rr_gen_summary_log("gen", &o, &st, rr_mono_s() - t0, stream_bytes, ctx.n, topic);
    return 0;
}

int rr_cmd_gen(int argc, char **argv)
{
    rr_kafka_opts_t ko = {0};
    int status = gen_command(argc, argv, &ko);
    rr_kafka_opts_free(&ko);
    return status;
}
