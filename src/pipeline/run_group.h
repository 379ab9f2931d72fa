/* pipeline/run_group.h: a bounded publishing run shared by several instances
 * (machines) through a Kafka consumer group: `run --from D1 --to D2` or
 * `run --until-end`, with --publish and --instance NAME (docs/kafka.md,
 * "Scale-out").
 *
 * Kafka deals the topic's partitions to the instances of --group; each one
 * publishes its partitions, exactly once, and the results are those of one
 * instance over the whole topic, because they are a function of each
 * partition alone: a partition holds whole shops, a conversation lives in
 * its partition, lateness and finalisation follow each partition's own
 * watermark (docs/engine.md, "Shards"), and a range's late and invalid
 * events are picked by each partition's first offset of the range.
 *
 * How (one instance):
 *   - a subscribed consumer (the member) joins the group; it reads nothing
 *     itself: what it is assigned is paused at its end;
 *   - the partitions the member owns whose committed offset does not carry
 *     the run's label ("replyrate:FROM..TO", "replyrate:until-end") make a
 *     pass: rr_run_kafka over them alone (rr_kafka_pass_t), read from their
 *     start to their end (a day range: its lookback to its stop) on a reader
 *     of their own, then published with their offsets and the label in one
 *     transaction sent with the member's group metadata;
 *   - a pass one of whose partitions is revoked or lost stops and aborts its
 *     transaction: nothing of it is published, and what the instance still
 *     owns makes the next pass. A commit refused because the group moved on
 *     (a new generation: this instance was a zombie) is abandoned the same
 *     way. Kafka gives a partition to another member only after its old
 *     owner revoked it or left, and that owner commits only while it is a
 *     member of the current generation, so no partition is published by
 *     two passes;
 *   - partitions assigned during a pass wait for the next one;
 *   - once its own are published the instance stays in the group, reading
 *     the committed offsets every second, so it takes over the partitions of
 *     an instance that dies (its session times out); it leaves when every
 *     partition of the topic carries the label.
 *
 * Transactional id: replyrate-GROUP-TOPIC-NAME (pipeline/run.c): a restarted
 * instance fences and aborts what its killed predecessor left open.
 *
 * Outcome (r's outputs, as rr_run_kafka's): 0 when every partition carries
 * the label, whoever published it; stats, read and missing_records: what
 * this instance published (an abandoned pass counts for nothing);
 * already_published when that is nothing; range_applied: the events the
 * group's passes applied, added up from the offsets' metadata (-1 unknown),
 * for the empty-input gate, which a pass does not judge (an instance's
 * partitions may hold nothing of a range). The other gates judge each pass
 * (r->judge) over its partitions. A pass that fails (an error, a gate, a
 * signal) ends the instance with its status; it leaves the group, and its
 * partitions go to the others.
 *
 * Ownership and threads: as rr_run_kafka (r borrowed; r->read the caller's
 * to free). The rebalance callback runs on the calling thread, inside the
 * member's polls. Layer: pipeline (io/kafka*, ops).
 */
#ifndef RR_PIPELINE_RUN_GROUP_H
#define RR_PIPELINE_RUN_GROUP_H

#include <stddef.h>

#include "pipeline/run_kafka.h"

/* r as for rr_run_kafka (r->publish required, r->live and r->pass NULL).
 * Returns 0, 1 (runtime error; also a producer fenced by another instance
 * of the same name), 2 (configuration), a pass's gate (3, 5) or
 * 128 + N (signal N), with errstr (errstr_size bytes) saying why. */
int rr_run_kafka_group(rr_kafka_run_t *r, char *errstr, size_t errstr_size);

#endif
