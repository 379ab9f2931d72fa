/* cmd_export.c: `replyrate export`: result topics (read_committed) into the
 * SPEC §6 file forms, for people and warehouse loaders.
 *
 * Each topic's record type comes from its name's suffix (.shop_day,
 * .agent_day, .violations, .alerts, .late, .dead_letter: the names `run
 * --publish` writes). Every partition is read from its beginning to its
 * high watermark at start (read_committed: committed records only; a
 * transaction still open there is waited for), so an export holds every
 * record committed before it began, once. Records are written through the same
 * renderers as `run --output`, so an export of a run's topics equals the
 * run's own --output file, record for record (tests/kafka/publish.sh, and
 * tests/kafka/publish_json.sh for `run --publish-format json`).
 *
 * A value is JSON when its first byte is '{', else protobuf, record by
 * record (so a topic whose format changed reads whole). That cannot
 * mistake one for the other: a protobuf message starts with its first
 * field's tag, (number << 3 | wire type) for numbers up to 15 and a byte
 * with the high bit set above; '{' is 0x7b, field 15 with wire type 3, the
 * start of a group, which proto3 messages never hold (and results.proto has
 * no field 15), while `run --publish-format json` writes '{' first, with no
 * whitespace before it. An empty value (a message with every field at its
 * default) is protobuf.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/config_file.h"
#include "codec/record_json_read.h"
#include "io/tmpfile.h"
#include "ops/log.h"
#include "ops/stop.h"
#include "io/output.h"
#include "io/kafka.h"
#include "io/kafka_sink.h"
#include "io/manifest.h"
#include "pipeline/fanout.h"
#include "pipeline/outdir.h"
#include "pipeline/run_files.h"
#include "replyrate/v1/results.pb-c.h"

#define MAX_TOPICS 16

static const char export_usage[] =
    "usage: replyrate export --brokers HOST:PORT --topic NAME [--topic NAME ...] --output FILE "
    "[options]\n"
    "       replyrate export --brokers HOST:PORT --topic NAME [--topic NAME ...] --output-dir DIR "
    "[options]\n"
    "\n"
    "Reads result topics written by `replyrate run --publish` (committed records only)\n"
    "into JSON Lines, CSV or delimited protobuf, as `replyrate run --output` writes them.\n"
    "A value is read as JSON (run --publish-format json) when it starts with '{', which\n"
    "no protobuf value does, else as protobuf: record by record, so either format reads.\n"
    "\n"
    "  -b, --brokers LIST      bootstrap servers\n"
    "  -t, --topic NAME        a result topic; its name ends in .shop_day, .agent_day,\n"
    "                          .violations, .alerts, .late or .dead_letter; repeatable\n"
    "  -o, --output FILE       .jsonl, .csv or .pb, optionally .zst; '-' = stdout JSON Lines\n"
    "      --output-dir DIR    instead, the loader files of `run --output-dir`: a file per\n"
    "                          table, typed, and DIR/manifest.json (its event counts are\n"
    "                          0: the run's summary has them)\n"
    "      --output-format F   their form: csv (default), jsonl, csv.zst or jsonl.zst\n"
    "  -c, --config FILE       with --output-dir: the run's job configuration, whose\n"
    "                          metrics are the wide tables' columns (default: built in);\n"
    "                          a record with a metric it does not declare fails the export\n"
    "  -X KEY=VALUE            any librdkafka consumer property; repeatable\n"
    "  -F, --kafka-config FILE librdkafka properties, one key=value a line (# comments),\n"
    "                          ${NAME} expanded from the environment; repeatable\n"
    "  -h, --help              this message\n"
    "\n"
    "Every partition is read from its start to its end when the export began; records of\n"
    "transactions still open there are waited for, and skipped if aborted. Records the\n"
    "topics' retention deleted are named on stderr and counted (deleted_records);\n"
    "records deleted while they are read fail the export.\n"
    "The output file appears under its name only when the export succeeds (written as\n"
    ".NAME.tmp.PID beside it, then renamed); SIGTERM or SIGINT removes it and exits 128+N.\n"
    "Exit status: 0 ok, 1 runtime error (unreachable cluster, no such topic, an\n"
    "undecodable record, failed write), 2 usage error.\n";

/* The JSON record kind each topic holds, by RR_KT_*. */
static const rr_record_json_kind_t topic_json_kind[RR_KT_COUNT] = {
    RR_RECORD_JSON_SHOP_DAY, RR_RECORD_JSON_AGENT_DAY, RR_RECORD_JSON_VIOLATION,
    RR_RECORD_JSON_ALERT,    RR_RECORD_JSON_LATE,      RR_RECORD_JSON_INVALID};

/* What a JSON value is read with: the record and the scratch its strings
 * are decoded into (grown to the largest value). */
typedef struct json_reader {
    rr_record_json_in_t rec;
    char *scratch;
    size_t cap;
} json_reader_t;

/* A JSON value (--publish-format json) into the renderer's sink. 0, or -1
 * with why in err. */
static int render_json(int type, const rd_kafka_message_t *m, json_reader_t *jr,
                       const rr_sink_t *out, char *err, size_t err_size)
{
    if (m->len > jr->cap) {
        char *s = realloc(jr->scratch, m->len);
        if (!s) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        jr->scratch = s;
        jr->cap = m->len;
    }
    rr_record_json_in_t *r = &jr->rec;
    if (rr_record_json_read(m->payload, m->len, jr->scratch, jr->cap, r, err, err_size) < 0)
        return -1;
    if (r->kind != topic_json_kind[type]) {
        snprintf(err, err_size, "a %s record", rr_record_json_kind_name(r->kind));
        return -1;
    }
    switch (r->kind) {
    case RR_RECORD_JSON_SHOP_DAY:
    case RR_RECORD_JSON_AGENT_DAY:
        out->day(out->opaque, &r->day);
        break;
    case RR_RECORD_JSON_VIOLATION:
        out->violation(out->opaque, &r->violation);
        break;
    case RR_RECORD_JSON_ALERT:
        out->alert(out->opaque, &r->alert);
        break;
    default:
        out->rejected(out->opaque, &r->rejected);
    }
    return 0;
}

/* One decoded record into the renderer's sink. 0, or -1 if it does not decode. */
static int render(int type, const rd_kafka_message_t *m, const rr_sink_t *out)
{
    const uint8_t *p = m->payload ? m->payload : (const uint8_t *)"";
    switch (type) {
    case RR_KT_SHOP_DAY:
    case RR_KT_AGENT_DAY: {
        int agent = type == RR_KT_AGENT_DAY;
        Replyrate__V1__ShopDay *sd = NULL;
        Replyrate__V1__AgentDay *ad = NULL;
        if (agent)
            ad = replyrate__v1__agent_day__unpack(NULL, m->len, p);
        else
            sd = replyrate__v1__shop_day__unpack(NULL, m->len, p);
        if (!sd && !ad) return -1;
        size_t n = agent ? ad->n_metrics : sd->n_metrics;
        Replyrate__V1__MetricValue **mv = agent ? ad->metrics : sd->metrics;
        static rr_config_t cfg; /* names and kinds of this record's metrics only */
        rr_value_t values[RR_MAX_METRICS];
        memset(&cfg, 0, sizeof cfg);
        memset(values, 0, sizeof values);
        if (n > RR_MAX_METRICS) n = RR_MAX_METRICS;
        for (size_t i = 0; i < n; i++) {
            snprintf(cfg.metrics[i].name, sizeof cfg.metrics[i].name, "%s", mv[i]->name);
            /* the JSON shows unanswered and buckets for response_time only: the
             * metrics that carry buckets; both kinds are per-agent */
            cfg.metrics[i].kind = mv[i]->n_buckets ? RR_KIND_RESPONSE_TIME : RR_KIND_MESSAGE_WITHIN;
            values[i].num = mv[i]->num;
            values[i].den = mv[i]->den;
            values[i].unanswered = mv[i]->unanswered;
            for (size_t b = 0; b < mv[i]->n_buckets && b < RR_BUCKETS; b++)
                values[i].buckets[b] = mv[i]->buckets[b];
        }
        cfg.n_metrics = n;
        rr_day_record_t r = {.is_agent = agent,
                             .shop_id = agent ? ad->shop_id : sd->shop_id,
                             .agent_id = agent ? ad->agent_id : 0,
                             .day = (int32_t)(agent ? ad->day : sd->day),
                             .final = agent ? ad->final : sd->final,
                             .revision = agent ? ad->revision : sd->revision,
                             .version = agent ? ad->version : sd->version,
                             .cfg = &cfg,
                             .values = values};
        out->day(out->opaque, &r);
        if (agent)
            replyrate__v1__agent_day__free_unpacked(ad, NULL);
        else
            replyrate__v1__shop_day__free_unpacked(sd, NULL);
        return 0;
    }
    case RR_KT_VIOLATIONS: {
        Replyrate__V1__Violation *v = replyrate__v1__violation__unpack(NULL, m->len, p);
        if (!v) return -1;
        rr_violation_record_t r = {.shop_id = v->shop_id,
                                   .day = (int32_t)v->day,
                                   .metric = v->metric,
                                   .conversation_id = v->conversation_id,
                                   .buyer_id = v->buyer_id,
                                   .agent_id = v->agent_id,
                                   .round_start_ms = v->round_start_ms,
                                   .answered = v->answered,
                                   .reply_ms = v->reply_ms,
                                   .wait_ms = v->wait_ms,
                                   .messages = v->messages,
                                   .reason = (rr_reason_t)v->reason,
                                   .final = v->final,
                                   .version = v->version};
        out->violation(out->opaque, &r);
        replyrate__v1__violation__free_unpacked(v, NULL);
        return 0;
    }
    case RR_KT_ALERTS: {
        Replyrate__V1__Alert *a = replyrate__v1__alert__unpack(NULL, m->len, p);
        if (!a) return -1;
        rr_alert_record_t r = {.shop_id = a->shop_id,
                               .day = (int32_t)a->day,
                               .rule = a->rule,
                               .value = a->value,
                               .final = a->final,
                               .version = a->version};
        out->alert(out->opaque, &r);
        replyrate__v1__alert__free_unpacked(a, NULL);
        return 0;
    }
    default: {
        Replyrate__V1__RejectedEvent *x = replyrate__v1__rejected_event__unpack(NULL, m->len, p);
        if (!x) return -1;
        rr_rejected_record_t r = {
            .verdict = x->kind == REPLYRATE__V1__REJECTED_EVENT__KIND__LATE ? RR_LATE : RR_INVALID,
            .reason = x->reason,
            .source = x->source,
            .partition = x->partition,
            .offset = x->offset,
            .raw = x->raw.data,
            .raw_len = x->raw.len,
            .decoded = x->event != NULL,
            .watermark_ms = x->watermark_ms};
        if (x->event) {
            r.event.event_id = x->event->event_id;
            r.event.shop_id = x->event->shop_id;
            r.event.conversation_id = x->event->conversation_id;
            r.event.buyer_id = x->event->buyer_id;
            r.event.agent_id = x->event->agent_id;
            r.event.ts_ms = x->event->ts_ms;
            r.event.type = (uint32_t)x->event->type;
            r.event.content = x->event->content;
            r.event.rating = x->event->rating;
            r.event.flags = x->event->flags;
        }
        out->rejected(out->opaque, &r);
        replyrate__v1__rejected_event__free_unpacked(x, NULL);
        return 0;
    }
    }
}

/* --output-dir: a day record decoded from a topic names only the metrics it
 * shows; the loader tables want them at their places in the run's
 * configuration (the wide tables' columns, the per-agent kinds). The first
 * record that does not fit the configuration fails the export. */
typedef struct remap {
    const rr_config_t *cfg;
    rr_sink_t next;
    char err[256]; /* the first misfit; "" none */
} remap_t;

static void remap_day(void *opaque, const rr_day_record_t *r)
{
    remap_t *m = opaque;
    rr_value_t values[RR_MAX_METRICS];
    memset(values, 0, sizeof values);
    size_t n = r->cfg ? r->cfg->n_metrics : 0;
    for (size_t i = 0; i < n && !m->err[0]; i++) {
        const rr_metric_def_t *d = &r->cfg->metrics[i];
        size_t j = 0;
        while (j < m->cfg->n_metrics && strcmp(m->cfg->metrics[j].name, d->name))
            j++;
        int rt = j < m->cfg->n_metrics && m->cfg->metrics[j].kind == RR_KIND_RESPONSE_TIME;
        if (j == m->cfg->n_metrics)
            snprintf(m->err, sizeof m->err, "metric %s is not in the configuration (--config)",
                     d->name);
        else if (rt != (d->kind == RR_KIND_RESPONSE_TIME))
            snprintf(m->err, sizeof m->err,
                     "metric %s is %sa response_time in the records, %sin the configuration",
                     d->name, rt ? "not " : "", rt ? "" : "not ");
        else if (r->is_agent && !rr_metric_kind_per_agent(m->cfg->metrics[j].kind))
            snprintf(m->err, sizeof m->err,
                     "metric %s of an agent_day is not per agent in the configuration", d->name);
        else
            values[j] = r->values[i];
    }
    if (m->err[0]) return;
    rr_day_record_t out = *r;
    out.cfg = m->cfg;
    out.values = values;
    m->next.day(m->next.opaque, &out);
}

static void remap_violation(void *opaque, const rr_violation_record_t *r)
{
    remap_t *m = opaque;
    m->next.violation(m->next.opaque, r);
}

static void remap_alert(void *opaque, const rr_alert_record_t *r)
{
    remap_t *m = opaque;
    m->next.alert(m->next.opaque, r);
}

static void remap_rejected(void *opaque, const rr_rejected_record_t *r)
{
    remap_t *m = opaque;
    m->next.rejected(m->next.opaque, r);
}

static int topic_type(const char *topic)
{
    const char *dot = strrchr(topic, '.');
    for (int t = 0; dot && t < RR_KT_COUNT; t++)
        if (!strcmp(dot + 1, rr_kafka_topic_suffix[t])) return t;
    return -1;
}

typedef struct export_ctx {
    int type;
    const rr_sink_t *out;
    json_reader_t *json;
    remap_t *remap; /* --output-dir's, or NULL */
    uint64_t records;
} export_ctx_t;

static int on_message(void *arg, const rd_kafka_message_t *m, char *err, size_t n)
{
    export_ctx_t *x = arg;
    if (m->len && *(const char *)m->payload == '{') {
        char why[256];
        if (render_json(x->type, m, x->json, x->out, why, sizeof why) < 0) {
            snprintf(err, n, "%s[%d] offset %lld: not a %s record in JSON: %s",
                     rd_kafka_topic_name(m->rkt), m->partition, (long long)m->offset,
                     rr_kafka_topic_suffix[x->type], why);
            return -1;
        }
    } else if (render(x->type, m, x->out) < 0) {
        snprintf(err, n, "%s[%d] offset %lld: not a %s record", rd_kafka_topic_name(m->rkt),
                 m->partition, (long long)m->offset, rr_kafka_topic_suffix[x->type]);
        return -1;
    }
    if (x->remap && x->remap->err[0]) {
        snprintf(err, n, "%s[%d] offset %lld: %s", rd_kafka_topic_name(m->rkt), m->partition,
                 (long long)m->offset, x->remap->err);
        return -1;
    }
    x->records++;
    return 0;
}

/* What --output-dir writes through: its files, the fan-out that routes
 * records to them, the remapping in front. */
typedef struct export_dir {
    rr_outdir_t dir;
    rr_config_t cfg;
    rr_run_files_t files;
    rr_fanout_t fan;
    remap_t remap;
} export_dir_t;

/* --output-dir's files opened, and *sink into them. 0, or -1 with err. */
static int open_dir(export_dir_t *d, rr_sink_t *sink, char *err, size_t err_size)
{
    rr_sink_t s;
    rr_fanout_init(&d->fan);
    for (int t = 0; t < RR_TABLES; t++) {
        if (rr_run_files_open_table(&d->files, "--output-dir", d->dir.path[t], (rr_table_t)t, &s,
                                    err, err_size) < 0)
            return -1;
        rr_fanout_add_output(&d->fan, s);
    }
    if (rr_run_files_open(&d->files, "--output-dir", d->dir.path[RR_OUTDIR_LATE], &s, err,
                          err_size) < 0)
        return -1;
    rr_fanout_set_late(&d->fan, s);
    if (rr_run_files_open(&d->files, "--output-dir", d->dir.path[RR_OUTDIR_DEAD], &s, err,
                          err_size) < 0)
        return -1;
    rr_fanout_set_dead(&d->fan, s);
    d->remap = (remap_t){.cfg = &d->cfg, .next = rr_fanout_sink(&d->fan)};
    *sink = (rr_sink_t){.opaque = &d->remap,
                        .day = remap_day,
                        .violation = remap_violation,
                        .alert = remap_alert,
                        .rejected = remap_rejected};
    return 0;
}

/* Publish --output-dir's files and their manifest: the export's files, the
 * configuration, and, as missing records, what retention deleted. */
static int publish_dir(export_dir_t *d, int64_t started_ms, uint64_t deleted, char *err,
                       size_t err_size)
{
    rr_manifest_t man;
    rr_manifest_init(&man, RR_VERSION, started_ms);
    int rc = rr_manifest_set_config(&man, &d->cfg);
    man.missing_records = deleted;
    man.ended_ms = rr_now_ms();
    if (rc < 0)
        snprintf(err, err_size, "out of memory");
    else
        rc = rr_run_files_publish(&d->files, &man, d->dir.manifest, err, err_size);
    rr_manifest_free(&man);
    return rc;
}

static int export_command(int argc, char **argv, rr_kafka_opts_t *ko)
{
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"output-dir", required_argument, NULL, 'd'},
                                         {"output-format", required_argument, NULL, 'e'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"kafka-config", required_argument, NULL, 'F'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *topics[MAX_TOPICS];
    int types[MAX_TOPICS];
    int n_topics = 0;
    const char *output = NULL, *output_dir = NULL, *output_format = NULL, *config = NULL;
    char err[RR_OUTDIR_PATH_MAX + 512];
    int c;
    optind = 1;
    opterr = 0; /* getopt's own messages would bypass the log */
    while ((c = getopt_long(argc, argv, ":b:t:o:c:X:F:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            ko->brokers = optarg;
            break;
        case 't':
            if (n_topics == MAX_TOPICS) {
                rr_log(RR_LOG_ERROR, "export", "more than %d --topic", MAX_TOPICS);
                return 2;
            }
            types[n_topics] = topic_type(optarg);
            if (types[n_topics] < 0) {
                rr_log(RR_LOG_ERROR, "export",
                       "topic '%s': its name must end in .shop_day, .agent_day, .violations, "
                       ".alerts, .late or .dead_letter",
                       optarg);
                return 2;
            }
            topics[n_topics++] = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'd':
            output_dir = optarg;
            break;
        case 'e':
            output_format = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'X':
        case 'F':
            if ((c == 'X' ? rr_kafka_add_prop(ko, optarg, err, sizeof err)
                          : rr_kafka_add_props_file(ko, optarg, err, sizeof err)) < 0) {
                rr_log(RR_LOG_ERROR, "export", "%s", err);
                return 2;
            }
            break;
        case 'h':
            fputs(export_usage, stdout);
            return 0;
        case ':':
            rr_log(RR_LOG_ERROR, "export", "option '%s' needs a value", argv[optind - 1]);
            return 2;
        default:
            rr_log(RR_LOG_ERROR, "export", "unknown option '%s' (see replyrate export --help)",
                   argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        rr_log(RR_LOG_ERROR, "export", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!ko->brokers || !n_topics || !output == !output_dir) {
        rr_log(RR_LOG_ERROR, "export", "%s (see replyrate export --help)",
               !ko->brokers ? "--brokers is required"
               : !n_topics  ? "--topic is required"
                            : "one of --output and --output-dir is required");
        return 2;
    }
    if ((output_format || config) && !output_dir) {
        rr_log(RR_LOG_ERROR, "export", "--output-format and --config go with --output-dir");
        return 2;
    }
    rr_format_t fmt;
    if (output && strcmp(output, "-") && rr_format_from_path(output, &fmt, err, sizeof err) < 0) {
        rr_log(RR_LOG_ERROR, "export", "%s", err);
        return 2;
    }
    export_dir_t *dir = NULL;
    if (output_dir) {
        dir = calloc(1, sizeof *dir); /* paths and a config: not on the stack */
        int rc = !dir ? (snprintf(err, sizeof err, "out of memory"), -1)
                      : rr_outdir_prepare(output_dir, output_format, &dir->dir, err, sizeof err);
        if (!rc && config) {
            char cerr[512];
            rc = rr_config_file_load(config, &dir->cfg, cerr, sizeof cerr);
            if (rc < 0) snprintf(err, sizeof err, "config: %s", cerr);
        } else if (!rc) {
            rr_config_default(&dir->cfg);
        }
        if (rc < 0) {
            rr_log(RR_LOG_ERROR, "export", "%s", err);
            free(dir);
            return 2;
        }
    }
    rd_kafka_t *rk = rr_kafka_reader_new(ko, "replyrate-export", err, sizeof err);
    if (!rk) {
        rr_log(RR_LOG_ERROR, "export", "%s", err);
        free(dir);
        return 2;
    }
    rr_output_t *out = NULL;
    json_reader_t *json = calloc(1, sizeof *json); /* a config's size: not on the stack */
    int status = 1;
    uint64_t records = 0, deleted = 0;
    double t0 = rr_mono_s();
    int64_t started_ms = rr_now_ms();
    /* a signal removes the temporary files and ends the export at once */
    rr_stop_install(RR_STOP_EXIT, rr_tmpfile_discard_all_signal_safe);
    if (!json) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    rr_sink_t sink;
    if (dir) {
        if (open_dir(dir, &sink, err, sizeof err) < 0) goto fail;
    } else {
        if (rr_output_open(output, &out, err, sizeof err) < 0) goto fail;
        rr_output_sink(out, &sink);
    }
    for (int i = 0; i < n_topics; i++) {
        export_ctx_t x = {
            .type = types[i], .out = &sink, .json = json, .remap = dir ? &dir->remap : NULL};
        uint64_t gone = 0;
        int rc = rr_kafka_read_to_end(rk, ko, topics[i], on_message, &x, 1200, "replyrate export",
                                      &gone, err, sizeof err);
        records += x.records;
        if (rc < 0) goto fail;
        if (gone) /* the topic's retention: what is left is exported, and said so */
            rr_log(RR_LOG_WARN, "export",
                   "%s: %llu records were deleted (retention or DeleteRecords) before the export; "
                   "they are not in it",
                   topics[i], (unsigned long long)gone);
        deleted += gone;
    }
    rr_stop_hold(1); /* the renames must not be cut short */
    int rc;
    if (dir) {
        rc = publish_dir(dir, started_ms, deleted, err, sizeof err);
    } else {
        rc = rr_output_close(out, err, sizeof err);
        out = NULL;
    }
    if (rc < 0) goto fail;
    status = 0;
    rr_log_event(RR_LOG_SUMMARY | RR_LOG_INFO, "export", "export_summary",
                 "\"records\":%llu,\"deleted_records\":%llu,\"seconds\":%.3f",
                 (unsigned long long)records, (unsigned long long)deleted, rr_mono_s() - t0);
    goto done;
fail:
    rr_log(RR_LOG_ERROR, "export", "%s", err);
done:
    rr_output_abort(out); /* a failed export publishes nothing */
    if (dir) rr_run_files_abort(&dir->files);
    free(dir);
    if (json) free(json->scratch);
    free(json);
    rr_stop_settle();
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return status;
}

int rr_cmd_export(int argc, char **argv)
{
    rr_kafka_opts_t ko = {0};
    int status = export_command(argc, argv, &ko);
    rr_kafka_opts_free(&ko);
    return status;
}
