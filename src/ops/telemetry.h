/* ops/telemetry.h: what a run shows while it runs, to Prometheus and to
 * Kubernetes' probes (docs/operations.md, "Watching a run").
 *
 * The run's threads set numbers here as they go (events judged per input
 * partition, watermarks, consumer lag, open state, records published,
 * transactions, checkpoints, restores, readiness); rr_tm_serve starts an HTTP
 * server (libmicrohttpd, its own thread) that renders them on request:
 *
 *   GET /metrics   the Prometheus text exposition format (version 0.0.4)
 *   GET /health    200 while the run's loop has beaten within the last
 *                  RR_TM_STALL_S seconds (liveness), else 503
 *   GET /ready     200 once the run reads its input (assigned, restored,
 *                  consuming), 503 with the reason before and after
 *
 * rr_tm_write_file writes the same text into a file (the node_exporter
 * textfile collector's way for jobs that end between two scrapes).
 *
 * The registry is process-wide (one run per process), behind one lock: any
 * thread may call any function. Setters copy what they are given. Numbers
 * are snapshots the run pushes (pipeline/watch.h does it every half second
 * per engine), so a scrape sees them at most that old. Layer: ops (base,
 * libmicrohttpd).
 */
#ifndef RR_OPS_TELEMETRY_H
#define RR_OPS_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#define RR_TM_STALL_S 300

/* An input partition's numbers: events judged, by verdict (applied,
 * duplicate, late, invalid: SPEC §7's order); its watermark in ms (INT64_MIN:
 * none yet). */
typedef struct rr_tm_partition {
    uint64_t judged[4];
    int64_t watermark_ms;
} rr_tm_partition_t;

/* Partition name (a Kafka topic's "TOPIC[P]", an input file's path): its
 * counts and watermark; its lag (messages between its position and its end;
 * set by whoever reads it). _drop: it is not this run's any more (a
 * rebalance took it): its series go. */
void rr_tm_partition(const char *name, const rr_tm_partition_t *v);
void rr_tm_partition_lag(const char *name, int64_t messages);
void rr_tm_partition_drop(const char *name);

/* One engine's state (summed over the engines set): open conversations,
 * open days, bytes of state. key identifies the engine; _drop when it is
 * freed. */
void rr_tm_engine(const void *key, uint64_t open_conversations, uint64_t open_days,
                  uint64_t state_bytes);
void rr_tm_engine_drop(const void *key);

/* n more records published to output (a Kafka topic, a result file). */
void rr_tm_records(const char *output, uint64_t n);

/* A transaction committed (and how long its commit took), or aborted. */
void rr_tm_txn_committed(double seconds);
void rr_tm_txn_aborted(void);

/* A checkpoint written (compressed bytes, seconds), a restore done. */
void rr_tm_checkpoint(uint64_t bytes, double seconds);
void rr_tm_restore(uint64_t bytes, double seconds);

/* /ready: ready or not, and why not ("starting", "restoring", "finished"...;
 * copied). rr_tm_beat: the run's loop is alive (for /health). */
void rr_tm_ready(int ready, const char *why_not);
void rr_tm_beat(void);

/* The version reported in replyrate_build_info (a static string). */
void rr_tm_set_version(const char *version);

/* Listen on addr ("HOST:PORT", "[V6]:PORT" or ":PORT" for every address;
 * port 0 picks one) and serve until rr_tm_shutdown. The port bound is put in
 * *port_out if not NULL. 0, or -1 with errstr (bad address, in use). */
int rr_tm_serve(const char *addr, int *port_out, char *errstr, size_t errstr_size);
void rr_tm_shutdown(void);

/* The /metrics text, malloc'd into *out (length returned), or -1 (no
 * memory). */
long rr_tm_render(char **out);

/* The /metrics text into path (a temporary beside it, renamed): 0, or -1
 * with errstr. */
int rr_tm_write_file(const char *path, char *errstr, size_t errstr_size);

#endif
