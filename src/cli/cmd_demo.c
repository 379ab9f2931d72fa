/* cmd_demo.c: `replyrate demo`: the whole Kafka pipeline with no external
 * service, on librdkafka's in-process mock cluster.
 *
 *   gen's generator -> topic demo.events (partitioned by shop)
 *     | read while it is written, by
 *   run --brokers --until-end --publish (bounded, exactly once, results to topics)
 *     -> read PREFIX.shop_day back (read_committed)
 *     -> a per-platform table and the worst shops on stdout
 *
 * The run is the real subcommand, called in-process against the mock
 * cluster's bootstrap address, over a topic still being written
 * (rr_cmd_run_live, pipeline/kafka_live.h); the writer is `gen --brokers`'s
 * generator and producer (cli/gen_topic.h) on a thread of its own, held back
 * while a partition's unread records are too many for the mock broker. Only
 * the broker is a test double. The same pipeline against a real broker is
 * tests/kafka/ (docs/kafka.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h */

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/gen_summary.h"
#include "cli/gen_topic.h"
#include "pipeline/kafka_live.h"
#include "gen/gen.h"
#include "io/kafka.h"
#include "io/kafka_events.h"
#include "io/kafka_sink.h"
#include "ops/log.h"
#include "replyrate/config.h"
#include "replyrate/v1/results.pb-c.h"

#define EVENTS_TOPIC "demo.events"
#define PREFIX "demo"
#define WORST 3
#define MIN_DEN 30
/* librdkafka's mock broker keeps at most 5 MiB of record batches in a
 * partition (rdkafka_mock.c, max_size; not configurable) and deletes the
 * oldest beyond, read or not, as retention would. So the run reads the
 * topic while it is written, and the writer waits while a partition holds
 * more than UNREAD_MAX records the run has not read. A record takes under
 * 190 bytes even alone in an uncompressed batch (61 bytes of batch header,
 * a 20-digit key, a 95-byte event: codec/encode.h, varints), about 20 in the
 * zstd batches written (docs/kafka.md): 20,000 take under 3.8 MB however
 * they are batched, leaving room for the batch the run is in (at most 1 MB,
 * io/kafka_events.c's batch.size). A record deleted all the same stops the
 * run with status 3 (docs/kafka.md, "Completeness"). */
#define UNREAD_MAX 20000
/* The mock broker answers a fetch that finds nothing new after the
 * fetch's whole wait (rdkafka_mock_handlers.c: it cannot cut the wait short
 * when records come), librdkafka's 500 ms by default: the run, caught up,
 * would leave the writer held back that long. */
#define FETCH_WAIT_MS "10"
/* One partition per 62,500 events, 4 to 16 (16 from 1M events on): a
 * shop's events share one, and its engine's watermark is the partition's.
 * Read while written, the topic needs no more to fit the mock broker, and
 * more cost time: 10M events took 30 s over 160 partitions, 22 s over 16. */
#define EVENTS_PER_PARTITION 62500
#define DEFAULT_PARTITIONS_MAX 16
#define MAX_PARTITIONS 1024

static const char demo_usage[] =
    "usage: replyrate demo [--events N] [--seed N] [--partitions N]\n"
    "\n"
    "Runs the Kafka pipeline end to end with no external service, on librdkafka's\n"
    "in-process mock cluster: generates a day of chat traffic into a topic (as\n"
    "gen --brokers does) while a bounded run (run --until-end --publish) reads it and\n"
    "publishes its results to topics in one transaction, then reads the shop_day\n"
    "results back and prints each platform's rates and its worst shops.\n"
    "\n"
    "  -n, --events N      model events (default 1000000)\n"
    "      --seed N        random seed (default 1)\n"
    "      --partitions N  partitions of the events and result topics (default: one per\n"
    "                      62,500 events, 4 to 16)\n"
    "  -h, --help          this message\n"
    "\n"
    "The mock broker keeps at most 5 MiB of a partition and deletes the oldest\n"
    "records beyond, so the generator waits while a partition holds more than\n"
    "20,000 records the run has not read: any number of events is read whole.\n"
    "Exit status: the run's (replyrate run --help); 1 if the generator failed.\n";

typedef struct shop_rate {
    uint64_t shop;
    int64_t num, den;
} shop_rate_t;

typedef struct metric_acc {
    char name[RR_NAME_MAX];
    int64_t num, den;
    int buckets; /* response_time: num is total wait */
    shop_rate_t *shops;
    size_t n_shops, cap;
} metric_acc_t;

static metric_acc_t *acc_of(metric_acc_t *acc, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(acc[i].name, name)) return &acc[i];
    if (*n == RR_MAX_METRICS) return NULL;
    metric_acc_t *a = &acc[(*n)++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    return a;
}

static int add_shop(metric_acc_t *a, uint64_t shop, int64_t num, int64_t den)
{
    for (size_t i = 0; i < a->n_shops; i++) /* a shop has a record per day */
        if (a->shops[i].shop == shop) {
            a->shops[i].num += num;
            a->shops[i].den += den;
            return 0;
        }
    if (a->n_shops == a->cap) {
        size_t c = a->cap ? 2 * a->cap : 256;
        shop_rate_t *s = realloc(a->shops, c * sizeof *s);
        if (!s) return -1;
        a->shops = s;
        a->cap = c;
    }
    a->shops[a->n_shops++] = (shop_rate_t){shop, num, den};
    return 0;
}

static int by_rate(const void *x, const void *y)
{
    const shop_rate_t *a = x, *b = y;
    double l = (double)a->num / (double)a->den, r = (double)b->num / (double)b->den; /* den > 0 */
    return l < r ? -1 : l > r ? 1 : (a->shop < b->shop ? -1 : a->shop > b->shop);
}

typedef struct demo_acc {
    metric_acc_t *acc;
    size_t *n_acc;
    uint64_t *records;
} demo_acc_t;

static int add_record(void *arg, const rd_kafka_message_t *m, char *err, size_t n)
{
    demo_acc_t *d = arg;
    Replyrate__V1__ShopDay *sd =
        replyrate__v1__shop_day__unpack(NULL, m->len, m->payload ? m->payload : (void *)"");
    if (!sd) {
        snprintf(err, n, "%s offset %lld: not a ShopDay", rd_kafka_topic_name(m->rkt),
                 (long long)m->offset);
        return -1;
    }
    (*d->records)++;
    int rc = 0;
    for (size_t i = 0; i < sd->n_metrics && !rc; i++) {
        metric_acc_t *a = acc_of(d->acc, d->n_acc, sd->metrics[i]->name);
        if (!a) continue;
        a->num += sd->metrics[i]->num;
        a->den += sd->metrics[i]->den;
        a->buckets |= sd->metrics[i]->n_buckets > 0;
        if (add_shop(a, sd->shop_id, sd->metrics[i]->num, sd->metrics[i]->den) < 0) {
            snprintf(err, n, "out of memory");
            rc = -1;
        }
    }
    replyrate__v1__shop_day__free_unpacked(sd, NULL);
    return rc;
}

/* Read PREFIX.shop_day to its end and add every record up. */
static int read_results(const char *bootstraps, metric_acc_t *acc, size_t *n_acc, uint64_t *records,
                        char *err, size_t n)
{
    rr_kafka_opts_t ko = {.brokers = bootstraps};
    rd_kafka_t *rk = rr_kafka_reader_new(&ko, "replyrate-demo", err, n);
    if (!rk) return -1;
    demo_acc_t d = {acc, n_acc, records};
    uint64_t deleted = 0;
    int rc = rr_kafka_read_to_end(rk, &ko, PREFIX ".shop_day", add_record, &d, 60, "replyrate demo",
                                  &deleted, err, n);
    if (!rc && deleted) {
        snprintf(err, n,
                 "%s: the mock broker deleted %llu records before they were read back "
                 "(more --partitions)",
                 PREFIX ".shop_day", (unsigned long long)deleted);
        rc = -1;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

static void print_report(metric_acc_t *acc, size_t n_acc, uint64_t records)
{
    printf("\n%-10s %-22s %12s %14s %12s\n", "platform", "metric", "rate", "numerator",
           "denominator");
    for (size_t i = 0; i < n_acc; i++) {
        const metric_acc_t *a = &acc[i];
        char platform[RR_NAME_MAX];
        snprintf(platform, sizeof platform, "%s", a->name);
        char *us = strchr(platform, '_');
        if (us) *us = 0;
        if (a->buckets)
            printf("%-10s %-22s %10.1f s %14" PRId64 " %12" PRId64 "   (mean wait)\n", platform,
                   a->name, a->den ? (double)a->num / (double)a->den / 1000.0 : 0.0, a->num,
                   a->den);
        else
            printf("%-10s %-22s %11.1f%% %14" PRId64 " %12" PRId64 "\n", platform, a->name,
                   a->den ? 100.0 * (double)a->num / (double)a->den : 0.0, a->num, a->den);
    }
    /* Each platform's first metric is its headline: its worst shops. */
    printf("\nworst shops (at least %d in the denominator), %llu shop-day records read back:\n",
           MIN_DEN, (unsigned long long)records);
    char seen[8][RR_NAME_MAX];
    int n_seen = 0;
    for (size_t i = 0; i < n_acc; i++) {
        metric_acc_t *a = &acc[i];
        size_t plen = strcspn(a->name, "_");
        int dup = a->buckets;
        for (int k = 0; k < n_seen && !dup; k++)
            dup = strlen(seen[k]) == plen && !strncmp(seen[k], a->name, plen);
        if (dup || n_seen == 8) continue;
        snprintf(seen[n_seen], sizeof seen[n_seen], "%.*s", (int)plen, a->name);
        n_seen++;
        size_t k = 0;
        for (size_t j = 0; j < a->n_shops; j++)
            if (a->shops[j].den >= MIN_DEN) a->shops[k++] = a->shops[j];
        qsort(a->shops, k, sizeof *a->shops, by_rate);
        printf("  %-22s", a->name);
        for (size_t j = 0; j < k && j < WORST; j++)
            printf("  shop %" PRIu64 " %.1f%% (%" PRId64 "/%" PRId64 ")", a->shops[j].shop,
                   100.0 * (double)a->shops[j].num / (double)a->shops[j].den, a->shops[j].num,
                   a->shops[j].den);
        printf("\n");
    }
}

/* The writer: the generator's stream into EVENTS_TOPIC on a thread of its
 * own, held back while the run has not read enough of a partition; then
 * the ends, or that it failed, to the run. */
typedef struct writer {
    rr_kafka_opts_t ko;
    rr_gen_opts_t o;
    rr_kafka_live_t *live;
    int np;
    int64_t *written; /* np: records put to each partition (the new topic's offsets) */
    int status;       /* 0 done; 1 failed (err); -1 stopped, the run being over */
    char err[512];
} writer_t;

static int pace(void *arg, int32_t p)
{
    writer_t *w = arg;
    return rr_kafka_live_pace(w->live, p, ++w->written[p], UNREAD_MAX);
}

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    double t0 = rr_mono_s();
    rr_gen_stats_t st;
    w->o.stats = &st;
    rr_gen_topic_t t = {.who = "demo", .pace = pace, .pace_arg = w};
    w->status = 1;
    /* the demo made the topic: the mock cannot say what it keeps */
    if (rr_event_producer_open(&w->ko, EVENTS_TOPIC, w->np, 0, &t.prod, w->err, sizeof w->err) <
        0) {
        rr_kafka_live_fail(w->live);
        return NULL;
    }
    char err[512];
    int rc = rr_gen_run(&w->o, rr_gen_topic_event, &t, err, sizeof err);
    if (rc && !t.err[0] && rr_kafka_live_is_over(w->live)) /* the run stopped first */
        w->status = -1;
    else if (rc)
        snprintf(w->err, sizeof w->err, "%s", t.err[0] ? t.err : err);
    /* waits for every record's acknowledgement: then the high watermarks
     * are the ends */
    if (rr_event_producer_close(t.prod, NULL, err, sizeof err) < 0 && !rc) {
        snprintf(w->err, sizeof w->err, "%s", err);
        rc = -1;
    }
    int64_t *lo = calloc(2 * (size_t)w->np, sizeof *lo);
    if (!rc && !lo) {
        snprintf(w->err, sizeof w->err, "out of memory");
        rc = -1;
    }
    if (!rc && rr_kafka_watermarks(&w->ko, EVENTS_TOPIC, w->np, lo, lo + w->np, w->err,
                                   sizeof w->err) == 0) {
        rr_kafka_live_end(w->live, lo + w->np);
        rr_gen_summary_log("demo", &w->o, &st, rr_mono_s() - t0, t.stream_bytes, (uint32_t)w->np,
                           EVENTS_TOPIC);
        w->status = 0;
    } else {
        rr_kafka_live_fail(w->live);
    }
    free(lo);
    return NULL;
}

/* The demo's traffic: gen's generator with every delivery knob. 0, or 2
 * with the option at fault on stderr. */
static int demo_traffic(const char *events, const char *seed, rr_gen_opts_t *o)
{
    rr_gen_opts_default(o);
    char *end;
    errno = 0;
    unsigned long long n = strtoull(events, &end, 10);
    if (!*events || *end || *events == '-' || errno || n < 1 || n > (1ULL << 40)) {
        rr_log(RR_LOG_ERROR, "demo", "--events: expected an integer in 1..2^40, got '%s'", events);
        return 2;
    }
    o->events = n;
    errno = 0;
    n = strtoull(seed, &end, 10);
    if (!*seed || *end || *seed == '-' || errno) {
        rr_log(RR_LOG_ERROR, "demo", "--seed: expected an unsigned 64-bit integer, got '%s'", seed);
        return 2;
    }
    o->seed = n;
    o->duplicate_rate = 0.01;
    o->disorder_rate = 0.02;
    o->late_rate = 0.001;
    o->invalid_rate = 0.001;
    o->garbage_rate = 0.0001;
    o->emit_raw = rr_gen_topic_raw;
    char err[256];
    if (rr_gen_opts_check(o, err, sizeof err)) {
        rr_log(RR_LOG_ERROR, "demo", "%s", err);
        return 2;
    }
    return 0;
}

int rr_cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"events", required_argument, NULL, 'n'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"partitions", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *events = "1000000", *seed = "1";
    int c, np = 0;
    optind = 1;
    opterr = 0; /* getopt's own messages would bypass the log */
    while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            events = optarg;
            break;
        case 's':
            seed = optarg;
            break;
        case 'p': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > MAX_PARTITIONS) {
                rr_log(RR_LOG_ERROR, "demo", "--partitions: expected 1..%d, got '%s'",
                       MAX_PARTITIONS, optarg);
                return 2;
            }
            np = (int)v;
            break;
        }
        case 'h':
            fputs(demo_usage, stdout);
            return 0;
        case ':':
            rr_log(RR_LOG_ERROR, "demo", "option '%s' needs a value", argv[optind - 1]);
            return 2;
        default:
            rr_log(RR_LOG_ERROR, "demo", "unknown option '%s' (see replyrate demo --help)",
                   argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        rr_log(RR_LOG_ERROR, "demo", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    writer_t w = {.status = 1};
    if (demo_traffic(events, seed, &w.o)) return 2;
    if (!np) {
        uint64_t p = (w.o.events + EVENTS_PER_PARTITION - 1) / EVENTS_PER_PARTITION;
        np = p < 4 ? 4 : p > DEFAULT_PARTITIONS_MAX ? DEFAULT_PARTITIONS_MAX : (int)p;
    }

    char err[512];
    /* The mock cluster lives in a client of its own for the whole demo. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rr_kafka_conf_log(conf);
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!host) {
        rr_log(RR_LOG_ERROR, "demo", "%s", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(host, 1);
    if (!mc) {
        rr_log(RR_LOG_ERROR, "demo", "could not start librdkafka's mock cluster");
        rd_kafka_destroy(host);
        return 1;
    }
    char bootstraps[256];
    snprintf(bootstraps, sizeof bootstraps, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    int status = 1;
    rd_kafka_mock_topic_create(mc, EVENTS_TOPIC, np, 1);
    for (int t = 0; t < RR_KT_COUNT; t++) {
        char name[128];
        snprintf(name, sizeof name, "%s.%s", PREFIX, rr_kafka_topic_suffix[t]);
        rd_kafka_mock_topic_create(mc, name, np, 1);
    }
    rr_log(RR_LOG_INFO, "demo", "librdkafka mock cluster at %s", bootstraps);

    double t0 = rr_mono_s();
    w.ko.brokers = bootstraps;
    w.np = np;
    w.live = rr_kafka_live_new(np);
    w.written = calloc((size_t)np, sizeof *w.written);
    pthread_t writer;
    if (!w.live || !w.written || pthread_create(&writer, NULL, writer_main, &w) != 0) {
        rr_log(RR_LOG_ERROR, "demo", "%s",
               w.live && w.written ? "cannot start a thread" : "out of memory");
        goto out;
    }
    rr_log(RR_LOG_INFO, "demo", "1/3 generating %" PRIu64 " events into %s (%d partitions)",
           w.o.events, EVENTS_TOPIC, np);
    rr_log(RR_LOG_INFO, "demo",
           "2/3 a bounded run reads them as they are written, results published to %s.* in one "
           "transaction",
           PREFIX);
    char *run_argv[] = {"run",
                        "--quiet",
                        "--until-end",
                        "--brokers",
                        bootstraps,
                        "--topic",
                        EVENTS_TOPIC,
                        "--publish",
                        "--topic-prefix",
                        PREFIX,
                        "--group",
                        "demo",
                        "-X",
                        "fetch.wait.max.ms=" FETCH_WAIT_MS,
                        NULL};
    int run_argc = (int)(sizeof run_argv / sizeof *run_argv) - 1;
    status = rr_cmd_run_live(run_argc, run_argv, w.live); /* the writer waits no more */
    pthread_join(writer, NULL);
    if (w.status > 0) {
        rr_log(RR_LOG_ERROR, "demo", "generating: %s", w.err);
        if (!status) status = 1;
    }
    if (status) {
        if (status == 3)
            rr_log(RR_LOG_ERROR, "demo",
                   "the mock broker keeps at most 5 MiB of a partition and deleted records of the "
                   "partition above before they were read: the demo's writer is held back too "
                   "little (a bug)");
        goto out;
    }
    rr_log(RR_LOG_INFO, "demo", "3/3 reading %s.shop_day back (read_committed)", PREFIX);
    metric_acc_t acc[RR_MAX_METRICS];
    size_t n_acc = 0;
    uint64_t records = 0;
    if (read_results(bootstraps, acc, &n_acc, &records, err, sizeof err) < 0) {
        rr_log(RR_LOG_ERROR, "demo", "%s", err);
        status = 1;
    } else if (!records) {
        rr_log(RR_LOG_ERROR, "demo", "no results were read back from %s.shop_day", PREFIX);
        status = 1;
    } else {
        printf("replyrate demo: %s model events of generated chat traffic, through Kafka (mock "
               "cluster) in %.1f s\n",
               events, rr_mono_s() - t0);
        print_report(acc, n_acc, records);
        status = 0;
    }
    for (size_t i = 0; i < n_acc; i++)
        free(acc[i].shops);
out:
    rr_kafka_live_free(w.live);
    free(w.written);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    return status;
}
