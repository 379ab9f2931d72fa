/* cmd_demo.c: `replyrate demo`: the whole Kafka pipeline with no external
 * service, on librdkafka's in-process mock cluster.
 *
 *   gen --brokers (a day of traffic, partitioned by shop)
 *     -> run --brokers --publish (bounded, exactly once, results to topics)
 *     -> read PREFIX.shop_day back (read_committed)
 *     -> a per-platform table and the worst shops on stdout
 *
 * Every step is the real subcommand, called in-process against the mock
 * cluster's bootstrap address; only the broker is a test double. The same
 * pipeline against a real broker is tests/kafka/ (docs/kafka.md).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h */

#include "cli/cli.h"
#include "cli/commands.h"
#include "io/kafka.h"
#include "io/kafka_sink.h"
#include "replyrate/config.h"
#include "replyrate/v1/results.pb-c.h"

#define EVENTS_TOPIC "demo.events"
#define PREFIX "demo"
#define WORST 3
#define MIN_DEN 30
/* librdkafka's mock broker keeps at most 5 MiB of record batches in a
 * partition (rdkafka_mock.c, max_size; not configurable) and deletes the
 * oldest beyond, as retention would: about 260,000 of the demo's events, 20
 * bytes each in zstd batches. A bounded run that finds records deleted
 * fails with status 3 (docs/kafka.md, "Completeness"). A partition holds
 * whole shops, and shop sizes follow Zipf: at 1M events the largest shop
 * alone has about 190,000. Partitions enough that the others rarely add
 * much to it: one per 62,500 events, at least 4 (16 at 1M). */
#define EVENTS_PER_PARTITION 62500
#define MAX_PARTITIONS 1024

static const char demo_usage[] =
    "usage: replyrate demo [--events N] [--seed N] [--partitions N]\n"
    "\n"
    "Runs the Kafka pipeline end to end with no external service, on librdkafka's\n"
    "in-process mock cluster: generates a day of chat traffic into a topic\n"
    "(gen --brokers), grades it in a bounded run that publishes its results to topics\n"
    "in one transaction (run --publish), reads the shop_day results back and prints\n"
    "each platform's rates and its worst shops.\n"
    "\n"
    "  -n, --events N      model events (default 1000000)\n"
    "      --seed N        random seed (default 1)\n"
    "      --partitions N  partitions of the events and result topics (default: one per\n"
    "                      62,500 events, at least 4)\n"
    "  -h, --help          this message\n"
    "\n"
    "The mock broker keeps at most 5 MiB of a partition (about 260,000 events) and\n"
    "deletes the oldest records beyond; the run then stops with status 3 naming the\n"
    "partition. A shop's events share a partition, and the largest shop of 1M events\n"
    "has about 190,000: much larger streams need a real broker (docs/kafka.md).\n";

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
        if (!strcmp(acc[i].name, name))
            return &acc[i];
    if (*n == RR_MAX_METRICS)
        return NULL;
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
        if (!s)
            return -1;
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
        if (!a)
            continue;
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
    if (!rk)
        return -1;
    demo_acc_t d = {acc, n_acc, records};
    uint64_t deleted = 0;
    int rc = rr_kafka_read_to_end(rk, &ko, PREFIX ".shop_day", add_record, &d, 60, "replyrate demo",
                                  &deleted, err, n);
    if (!rc && deleted) {
        snprintf(err, n, "%s: the mock broker deleted %llu records before they were read back "
                 "(more --partitions)", PREFIX ".shop_day", (unsigned long long)deleted);
        rc = -1;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

static void print_report(metric_acc_t *acc, size_t n_acc, uint64_t records)
{
    printf("\n%-10s %-22s %12s %14s %12s\n", "platform", "metric", "rate", "numerator", "denominator");
    for (size_t i = 0; i < n_acc; i++) {
        const metric_acc_t *a = &acc[i];
        char platform[RR_NAME_MAX];
        snprintf(platform, sizeof platform, "%s", a->name);
        char *us = strchr(platform, '_');
        if (us)
            *us = 0;
        if (a->buckets)
            printf("%-10s %-22s %10.1f s %14" PRId64 " %12" PRId64 "   (mean wait)\n", platform,
                   a->name, a->den ? (double)a->num / (double)a->den / 1000.0 : 0.0, a->num, a->den);
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
        if (dup || n_seen == 8)
            continue;
        snprintf(seen[n_seen], sizeof seen[n_seen], "%.*s", (int)plen, a->name);
        n_seen++;
        size_t k = 0;
        for (size_t j = 0; j < a->n_shops; j++)
            if (a->shops[j].den >= MIN_DEN)
                a->shops[k++] = a->shops[j];
        qsort(a->shops, k, sizeof *a->shops, by_rate);
        printf("  %-22s", a->name);
        for (size_t j = 0; j < k && j < WORST; j++)
            printf("  shop %" PRIu64 " %.1f%% (%" PRId64 "/%" PRId64 ")", a->shops[j].shop,
                   100.0 * (double)a->shops[j].num / (double)a->shops[j].den, a->shops[j].num,
                   a->shops[j].den);
        printf("\n");
    }
}

int rr_cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"events", required_argument, NULL, 'n'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"partitions", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *events = "1000000", *seed = "1", *partitions = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
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
                fprintf(stderr, "replyrate demo: --partitions: expected 1..%d, got '%s'\n",
                        MAX_PARTITIONS, optarg);
                return 2;
            }
            partitions = optarg;
            break;
        }
        case 'h':
            fputs(demo_usage, stdout);
            return 0;
        default:
            fputs(demo_usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "replyrate demo: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    char parts_buf[16];
    if (!partitions) {
        char *end;
        unsigned long long n = strtoull(events, &end, 10);
        if (!*events || *end || n < 1) {
            fprintf(stderr, "replyrate demo: --events: expected a positive integer, got '%s'\n",
                    events);
            return 2;
        }
        unsigned long long p = (n + EVENTS_PER_PARTITION - 1) / EVENTS_PER_PARTITION;
        snprintf(parts_buf, sizeof parts_buf, "%llu",
                 p < 4 ? 4 : p > MAX_PARTITIONS ? MAX_PARTITIONS : p);
        partitions = parts_buf;
    }

    char err[512];
    /* The mock cluster lives in a client of its own for the whole demo. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!host) {
        fprintf(stderr, "replyrate demo: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(host, 1);
    if (!mc) {
        fprintf(stderr, "replyrate demo: could not start librdkafka's mock cluster\n");
        rd_kafka_destroy(host);
        return 1;
    }
    char bootstraps[256];
    snprintf(bootstraps, sizeof bootstraps, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    int status = 1;
    rd_kafka_mock_topic_create(mc, EVENTS_TOPIC, atoi(partitions), 1);
    for (int t = 0; t < RR_KT_COUNT; t++) {
        char name[128];
        snprintf(name, sizeof name, "%s.%s", PREFIX, rr_kafka_topic_suffix[t]);
        rd_kafka_mock_topic_create(mc, name, atoi(partitions), 1);
    }
    fprintf(stderr, "replyrate demo: librdkafka mock cluster at %s\n", bootstraps);

    double t0 = rr_mono_s();
    char *gen_argv[] = {"gen", "--events", (char *)events, "--seed", (char *)seed,
                        "--brokers", bootstraps, "--topic", EVENTS_TOPIC,
                        "--duplicate-rate", "0.01", "--disorder-rate", "0.02", "--late-rate", "0.001",
                        "--invalid-rate", "0.001", "--garbage-rate", "0.0001", NULL};
    int gen_argc = (int)(sizeof gen_argv / sizeof *gen_argv) - 1;
    fprintf(stderr, "replyrate demo: 1/3 generating %s events into %s (%s partitions)\n", events,
            EVENTS_TOPIC, partitions);
    if ((status = rr_cmd_gen(gen_argc, gen_argv)) != 0)
        goto out;
    char *run_argv[] = {"run", "--quiet", "--until-end", "--brokers", bootstraps, "--topic", EVENTS_TOPIC,
                        "--publish", "--topic-prefix", PREFIX, "--group", "demo", NULL};
    int run_argc = (int)(sizeof run_argv / sizeof *run_argv) - 1;
    fprintf(stderr, "replyrate demo: 2/3 bounded run, results published to %s.* in one transaction\n",
            PREFIX);
    if ((status = rr_cmd_run(run_argc, run_argv)) != 0) {
        if (status == 3)
            fprintf(stderr, "replyrate demo: the mock broker keeps at most 5 MiB of a partition "
                            "and deleted the oldest records of the partition above: fewer "
                            "--events, or a real broker (docs/kafka.md)\n");
        goto out;
    }
    fprintf(stderr, "replyrate demo: 3/3 reading %s.shop_day back (read_committed)\n", PREFIX);
    metric_acc_t acc[RR_MAX_METRICS];
    size_t n_acc = 0;
    uint64_t records = 0;
    if (read_results(bootstraps, acc, &n_acc, &records, err, sizeof err) < 0) {
        fprintf(stderr, "replyrate demo: %s\n", err);
        status = 1;
    } else if (!records) {
        fprintf(stderr, "replyrate demo: no results were read back from %s.shop_day\n", PREFIX);
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
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    return status;
}
