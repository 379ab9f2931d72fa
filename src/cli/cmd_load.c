/* cmd_load.c: `replyrate load`: replay archived event files into a Kafka
 * topic, partitioned by shop (SPEC §4: every event of a shop in one
 * partition).
 *
 * The files are read one after another, each in file order; every record
 * goes to partition rr_shop_partition(shop_id, partitions), keyed by the
 * shop id in decimal, value = the ChatEvent bytes unchanged. A record that
 * does not decode has no shop: it goes to partition 0 unkeyed, unchanged,
 * so the run that reads the topic dead-letters it (nothing is dropped). The
 * producer is idempotent, so retries neither duplicate nor reorder.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "codec/decode.h"
#include "io/kafka.h"
#include "io/kafka_events.h"
#include "io/source.h"
#include "ops/log.h"
#include "ops/progress.h"
#include "replyrate/event.h"

#define MAX_INPUTS 1024
#define BATCH 4096

static const char load_usage[] =
    "usage: replyrate load --input FILE [--input FILE ...] --brokers HOST:PORT --topic NAME "
    "[options]\n"
    "\n"
    "Replays delimited ChatEvent files (.pb, .pb.zst) into a Kafka topic, partitioned\n"
    "by shop_id (keyed by the shop id), each file in order, one after another.\n"
    "\n"
    "  -i, --input FILE        event file; repeatable ('-' = stdin)\n"
    "  -b, --brokers LIST      bootstrap servers, HOST:PORT[,HOST:PORT...]\n"
    "  -t, --topic NAME        the topic; created if absent, keeping every record\n"
    "                          (retention.ms=-1, retention.bytes=-1)\n"
    "  -p, --partitions N      partitions when creating the topic (default 6)\n"
    "  -X KEY=VALUE            any librdkafka producer property (SASL, TLS, ...); repeatable\n"
    "  -F, --kafka-config FILE librdkafka properties, one key=value a line (# comments),\n"
    "                          ${NAME} expanded from the environment; repeatable\n"
    "  -q, --quiet             no progress events\n"
    "  -h, --help              this message\n"
    "\n"
    "Undecodable records go to partition 0 unchanged, for the run to dead-letter.\n"
    "Records are stamped with their event time: into an existing topic whose\n"
    "retention.ms (or retention.bytes) would delete them, a warning says so.\n"
    "On exit a summary is logged on stderr, one JSON line in either log format:\n"
    "{\"type\":\"load_summary\",...,\"records\":N,...}.\n"
    "Exit status: 0 every record acknowledged, 1 runtime error, 2 usage error, 3 incomplete\n"
    "input: a file's framing breaks before its end or its zstd data is damaged (what comes\n"
    "before is loaded; docs/output.md, \"Damaged input\").\n";

static int load_command(int argc, char **argv, rr_kafka_opts_t *ko)
{
    static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
                                         {"brokers", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"partitions", required_argument, NULL, 'p'},
                                         {"kafka-config", required_argument, NULL, 'F'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *inputs[MAX_INPUTS];
    int n_in = 0, quiet = 0;
    long partitions = 6;
    const char *topic = NULL;
    char err[512];
    int c;
    optind = 1;
    opterr = 0; /* getopt's own messages would bypass the log */
    while ((c = getopt_long(argc, argv, ":i:b:t:p:X:F:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (n_in == MAX_INPUTS) {
                rr_log(RR_LOG_ERROR, "load", "more than %d --input files", MAX_INPUTS);
                return 2;
            }
            inputs[n_in++] = optarg;
            break;
        case 'b':
            ko->brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'p': {
            char *end;
            partitions = strtol(optarg, &end, 10);
            if (!*optarg || *end || partitions < 1 || partitions > 100000) {
                rr_log(RR_LOG_ERROR, "load", "--partitions: expected 1..100000, got '%s'", optarg);
                return 2;
            }
            break;
        }
        case 'X':
        case 'F':
            if ((c == 'X' ? rr_kafka_add_prop(ko, optarg, err, sizeof err)
                          : rr_kafka_add_props_file(ko, optarg, err, sizeof err)) < 0) {
                rr_log(RR_LOG_ERROR, "load", "%s", err);
                return 2;
            }
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(load_usage, stdout);
            return 0;
        case ':':
            rr_log(RR_LOG_ERROR, "load", "option '%s' needs a value", argv[optind - 1]);
            return 2;
        default:
            rr_log(RR_LOG_ERROR, "load", "unknown option '%s' (see replyrate load --help)",
                   argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        rr_log(RR_LOG_ERROR, "load", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!n_in || !ko->brokers || !topic) {
        rr_log(RR_LOG_ERROR, "load", "%s is required (see replyrate load --help)",
               !n_in          ? "--input"
               : !ko->brokers ? "--brokers"
                              : "--topic");
        return 2;
    }

    int status = 1, np = 0;
    uint64_t records = 0, undecodable = 0, failed = 0, unread = 0;
    double t0 = rr_mono_s(), next_progress = t0 + rr_progress_interval();
    rr_event_producer_t *prod;
    int orc = rr_event_producer_open(ko, topic, (int)partitions, 1, &prod, err, sizeof err);
    if (orc < 0) {
        rr_log(RR_LOG_ERROR, "load", "%s", err);
        return orc == -2 ? 2 : 1;
    }
    np = rr_event_producer_partitions(prod);

    int rc;
    for (int f = 0; f < n_in; f++) {
        rr_source_t *src;
        if (rr_source_open(inputs[f], &src, err, sizeof err) < 0) goto fail;
        rr_record_t recs[256];
        int got;
        while ((got = rr_source_next_batch(src, recs, 256)) > 0) {
            for (int k = 0; k < got; k++) {
                rr_event_t ev;
                int32_t part = 0;
                uint64_t shop = 0;
                if (recs[k].status == RR_FRAME_OK &&
                    rr_decode_event(recs[k].data, recs[k].len, &ev) == RR_DECODE_OK) {
                    part = (int32_t)rr_shop_partition(ev.shop_id, (uint32_t)np);
                    shop = ev.shop_id;
                } else {
                    undecodable++;
                }
                if (rr_event_producer_put(prod, part, shop, shop ? ev.ts_ms : 0, recs[k].data,
                                          recs[k].len, err, sizeof err) < 0) {
                    rr_source_close(src);
                    goto fail;
                }
                records++;
            }
            const char *warning = rr_event_producer_warning(prod);
            if (warning) rr_log(RR_LOG_WARN, "load", "%s", warning);
            if (!quiet && rr_mono_s() > next_progress) {
                rr_log_event(RR_LOG_INFO, "load", "progress", "\"records\":%llu,\"file\":%d",
                             (unsigned long long)records, f);
                next_progress += rr_progress_interval();
            }
        }
        if (got < 0) {
            snprintf(err, sizeof err, "%s", rr_source_error(src));
            rr_source_close(src);
            goto fail;
        }
        rr_source_gaps_t g = rr_source_gaps(src); /* unread input is never silent */
        if (g.unread_bytes) {
            rr_log(RR_LOG_WARN, "load", "%s", rr_source_notice(src));
            unread += g.unread_bytes;
        }
        rr_source_close(src);
    }
    /* every record acknowledged (or failed) before we say so */
    rc = rr_event_producer_close(prod, &failed, err, sizeof err);
    prod = NULL;
    if (rc < 0) goto fail;
    status = 0;
    if (unread) {
        rr_log(RR_LOG_ERROR, "load", "incomplete input: %llu bytes unread",
               (unsigned long long)unread);
        status = 3;
    }
    goto done;
fail:
    rr_log(RR_LOG_ERROR, "load", "%s", err);
    if (prod) rr_event_producer_close(prod, &failed, err, sizeof err);
done:
    rr_log_event(RR_LOG_SUMMARY | (status ? RR_LOG_ERROR : RR_LOG_INFO), "load", "load_summary",
                 "\"records\":%llu,\"undecodable\":%llu,\"failed\":%llu,"
                 "\"unread_bytes\":%llu,\"topic\":\"%s\",\"partitions\":%d,\"seconds\":%.3f",
                 (unsigned long long)records, (unsigned long long)undecodable,
                 (unsigned long long)failed, (unsigned long long)unread, topic, np,
                 rr_mono_s() - t0);
    return status;
}

int rr_cmd_load(int argc, char **argv)
{
    rr_kafka_opts_t ko = {0};
    int status = load_command(argc, argv, &ko);
    rr_kafka_opts_free(&ko);
    return status;
}
