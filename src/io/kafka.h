/* io/kafka.h: librdkafka plumbing shared by the commands that talk to Kafka
 * (`replyrate load`, `replyrate run --brokers`).
 *
 * Clients are built from --brokers, the command's own defaults, then every
 * -X key=value (so -X can override anything, as with kcat). Errors are
 * returned as text naming what failed; librdkafka's own log lines go through
 * ops/log.h (component "kafka"); nothing here prints.
 *
 * Ownership: clients returned are the caller's (rd_kafka_destroy, or
 * rr_kafka_destroy_within); options and names are borrowed for the call;
 * messages handed to callbacks are borrowed for the callback. Thread-safety: the
 * functions keep no state of their own; a client is librdkafka's
 * (thread-safe) and a consumer is polled by one thread. Layer: io; uses
 * io/feed and io/source (feeding Kafka batches), ops/log, base (clock),
 * engine, librdkafka.
 */
#ifndef RR_IO_KAFKA_H
#define RR_IO_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "io/source.h"
#include "replyrate/engine.h"

#define RR_KAFKA_MAX_PROPS 64

typedef struct rr_kafka_opts {
    const char *brokers;                   /* bootstrap.servers */
    const char *props[RR_KAFKA_MAX_PROPS]; /* "key=value", from -X and -F, in order */
    int n_props;
    char *owned[RR_KAFKA_MAX_PROPS]; /* the props this struct made (rr_kafka_opts_free) */
    int n_owned;
} rr_kafka_opts_t;

/* Record one -X argument. ${NAME} in it is replaced by the environment
 * variable NAME (so a secret need not be on the command line), an unset one
 * being an error. 0, or -1 with errstr (not key=value, an unset variable,
 * too many). kv is borrowed unless it had a ${NAME}. */
int rr_kafka_add_prop(rr_kafka_opts_t *o, const char *kv, char *errstr, size_t errstr_size);

/* Record the properties of a file, as kcat's -F: one key=value a line, blanks
 * around key and value ignored, blank lines and lines starting with # skipped,
 * ${NAME} replaced as for -X. They take their place in order among -X's: a
 * later property overrides an earlier one. 0, or -1 with errstr naming the
 * file (and line). */
int rr_kafka_add_props_file(rr_kafka_opts_t *o, const char *path, char *errstr, size_t errstr_size);

/* Free what -X and -F made (a copy of o shares it: free one). */
void rr_kafka_opts_free(rr_kafka_opts_t *o);

/* Route the log of a client made from conf through ops/log.h (every client
 * rr_kafka_new makes is; this is for one made otherwise). */
void rr_kafka_conf_log(rd_kafka_conf_t *conf);

/* A client of the given type. defaults: NULL-terminated key, value pairs set
 * before -X (may be NULL). conf_hook, if set, is called on the config last
 * (callbacks, opaque). Returns NULL with errstr naming the property at fault. */
rd_kafka_t *rr_kafka_new(rd_kafka_type_t type, const rr_kafka_opts_t *o,
                         const char *const *defaults, void (*conf_hook)(rd_kafka_conf_t *, void *),
                         void *hook_arg, char *errstr, size_t errstr_size);

/* A consumer for reading topics to a known end (bounded runs, export,
 * rr_kafka_read_to_end): group.id = group, nothing committed by itself,
 * end-of-partition events on (an end can sit behind a transaction marker,
 * which no record reports), read_committed, large fetches, and
 * auto.offset.reset=error: a partition whose next offset was deleted under
 * it delivers a message for which rr_kafka_is_reset is true (its offset: the
 * one gone) and is fetched no more, rather than skipping to what is left.
 * -X overrides any of it. NULL with errstr naming the property at fault. */
rd_kafka_t *rr_kafka_reader_new(const rr_kafka_opts_t *o, const char *group, char *errstr,
                                size_t errstr_size);

/* Whether m reports that its partition's next offset (m->offset) is gone:
 * deleted by retention or DeleteRecords, or the topic recreated. */
int rr_kafka_is_reset(const rd_kafka_message_t *m);

/* rd_kafka_destroy(rk), waiting at most timeout_ms: librdkafka 2.0's
 * destroy can wait forever (a consumer that was assigned partitions of a
 * topic deleted since). 1 when it is done; 0 when it was left to finish on
 * a thread of its own, if ever (a command that exits loses nothing). */
int rr_kafka_destroy_within(rd_kafka_t *rk, int timeout_ms);

/* Partition p's log start offset (lo: every offset below it is deleted)
 * and end, asked of the cluster now through rk. 0, or -1 with errstr. */
int rr_kafka_log_bounds(rd_kafka_t *rk, const char *topic, int32_t p, int64_t *lo, int64_t *hi,
                        char *errstr, size_t errstr_size);

/* The same consumer settings, end-of-partition events on or off, with a
 * conf_hook as in rr_kafka_new (a streaming run's rebalance callback), but
 * auto.offset.reset=earliest: a new group starts at each partition's
 * beginning. */
rd_kafka_t *rr_kafka_consumer_new(const rr_kafka_opts_t *o, const char *group, int eof,
                                  void (*conf_hook)(rd_kafka_conf_t *, void *), void *hook_arg,
                                  char *errstr, size_t errstr_size);

/* rd_kafka_committed, asked again while the group's coordinator is not
 * there yet (not elected, loading its offsets: a broker just started, or a
 * group new to it), until timeout_ms have passed. */
rd_kafka_resp_err_t rr_kafka_committed(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l,
                                       int timeout_ms);

/* The topic's partition count: > 0; 0 if the topic does not exist; -1 with
 * errstr when the cluster could not be asked. */
int rr_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                             size_t errstr_size);

/* Create topic with that many partitions (replication factor: the
 * cluster's default) and configs (NULL-terminated name, value pairs; may be
 * NULL). An existing topic is not an error. 0, or -1 with errstr. */
int rr_kafka_create_topic(rd_kafka_t *rk, const char *topic, int partitions,
                          const char *const *configs, int timeout_ms, char *errstr,
                          size_t errstr_size);

/* The values the cluster applies to topic for each of names[0..count)
 * (its own or the broker's defaults): values[i] a malloc'ed copy, owned by
 * the caller, or NULL when the cluster did not say. 0, or -1 with errstr (every
 * values[i] NULL). */
int rr_kafka_topic_configs(rd_kafka_t *rk, const char *topic, const char *const *names, int count,
                           char **values, int timeout_ms, char *errstr, size_t errstr_size);

/* Each partition's low and high watermark offsets, read_uncommitted: the high
 * one is the end of everything written so far, committed or not. A
 * read_committed consumer reading up to it delivers every committed record
 * below it once the transactions there are resolved (and their markers
 * written, which trails the producer's commit a little), skipping aborted
 * ones; reading to the last stable offset instead would miss records of a
 * transaction that had just committed. lo and hi have np entries. 0, or -1
 * with errstr. */
int rr_kafka_watermarks(const rr_kafka_opts_t *o, const char *topic, int np, int64_t *lo,
                        int64_t *hi, char *errstr, size_t errstr_size);

/* Read every partition of topic with rk (a reader: read_committed as it
 * is configured) from its start to its high watermark at the call
 * (rr_kafka_watermarks), calling fn for each record in offset order per
 * partition. fn returns 0, or -1 having written why into errstr to stop.
 * Transient client errors are waited out (logged through ops/log.h, prefixed by who);
 * a fatal one, records deleted while they are read, or no progress for
 * timeout_s seconds, fails. *deleted (may be NULL) gets the offsets below
 * the partitions' log starts at the call, added up: records deleted before
 * the read (retention, DeleteRecords), which no reader can have. Assigns
 * and unassigns rk. 0, or -1 with errstr. */
typedef int (*rr_kafka_record_fn)(void *arg, const rd_kafka_message_t *m, char *errstr,
                                  size_t errstr_size);
int rr_kafka_read_to_end(rd_kafka_t *rk, const rr_kafka_opts_t *ko, const char *topic,
                         rr_kafka_record_fn fn, void *arg, int timeout_s, const char *who,
                         uint64_t *deleted, char *errstr, size_t errstr_size);

/* Offer msgs[0..n) (consecutive messages of one partition) to engine
 * partition p at wall clock now_ms: each message is one record located by
 * its Kafka offset (io/feed.h). recs: n entries of scratch. */
void rr_kafka_feed(rr_engine_t *eng, int p, rd_kafka_message_t *const *msgs, size_t n,
                   rr_record_t *recs, int64_t now_ms);

/* The same, stopping right after the message that takes partition p's
 * watermark past stop_wm (io/feed.h, rr_feed_records_until): how many were
 * offered. */
size_t rr_kafka_feed_until(rr_engine_t *eng, int p, rd_kafka_message_t *const *msgs, size_t n,
                           rr_record_t *recs, int64_t now_ms, int64_t stop_wm, int64_t lateness_ms);

#endif
