#include "cli/run_kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define BATCH 4096
#define WAIT_MS 200

typedef struct part_state {
    int64_t start, end; /* offsets captured at start: read [start, end) */
    int64_t next;       /* the offset after the last one fed */
    int eng_part; /* the engine's partition */
    int done;
} part_state_t;

/* The partition has been read to its end offset: it stops holding the
 * watermark back, and is paused so no more is fetched. */
static void finish_partition(rd_kafka_t *rk, rr_kafka_run_t *r, part_state_t *ps, int32_t p,
                             int *remaining)
{
    if (ps[p].done)
        return;
    ps[p].done = 1;
    (*remaining)--;
    rr_engine_partition_end(r->eng, ps[p].eng_part);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, r->topic, p);
    rd_kafka_pause_partitions(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Offer msgs[0..n) (one partition's consecutive messages) to the engine. */
static void feed_run(rr_kafka_run_t *r, part_state_t *ps, rd_kafka_message_t **msgs, size_t n,
                     rr_record_t *recs)
{
    rr_kafka_feed(r->eng, ps[msgs[0]->partition].eng_part, msgs, n, recs,
                  r->have_now ? r->now_ms : rr_now_ms());
    ps[msgs[0]->partition].next = msgs[n - 1]->offset + 1;
}

/* Offsets of the first records at or after ts_ms (by Kafka timestamp), into
 * out[0..np); a partition with none gets its end. 0, or -1 with r->err. */
static int offsets_for_time(rd_kafka_t *rk, rr_kafka_run_t *r, const part_state_t *ps, int np,
                            int64_t ts_ms, int64_t *out)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
    for (int32_t p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(l, r->topic, p)->offset = ts_ms;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, 10000);
    for (int i = 0; !e && i < l->cnt; i++) {
        int32_t p = l->elems[i].partition;
        if (l->elems[i].err)
            e = l->elems[i].err;
        else /* -1: no record that late; and never outside what exists */
            out[p] = l->elems[i].offset < 0 || l->elems[i].offset > ps[p].end ? ps[p].end
                     : l->elems[i].offset < ps[p].start                      ? ps[p].start
                                                                             : l->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        snprintf(r->err, sizeof r->err, "%s: offsets for time %lld: %s", r->topic, (long long)ts_ms,
                 rd_kafka_err2str(e));
    return e ? -1 : 0;
}

int rr_run_kafka(rr_kafka_run_t *r)
{
    rd_kafka_t *rk = rr_kafka_reader_new(r->ko, r->group ? r->group : "replyrate", r->err, sizeof r->err);
    if (!rk)
        return 2;
    int status = 1;
    part_state_t *ps = NULL;
    rd_kafka_message_t **msgs = NULL;
    rr_record_t *recs = NULL;
    rd_kafka_topic_partition_list_t *assign = NULL;
    rd_kafka_queue_t *q = NULL;
    int64_t *lo_hi = NULL;
    double t0 = rr_mono_s(), next_progress = t0 + 5;

    int np = rr_kafka_partition_count(rk, r->topic, 10000, r->err, sizeof r->err);
    if (np == 0)
        snprintf(r->err, sizeof r->err, "topic '%s' does not exist", r->topic);
    if (np <= 0)
        goto out;
    ps = calloc((size_t)np, sizeof *ps);
    msgs = malloc(BATCH * sizeof *msgs);
    recs = malloc(BATCH * sizeof *recs);
    assign = rd_kafka_topic_partition_list_new(np);
    if (!ps || !msgs || !recs || !assign) {
        snprintf(r->err, sizeof r->err, "out of memory");
        goto out;
    }
    /* Every partition joins the engine before any event: the job watermark
     * waits for all of them (SPEC §5). */
    int remaining = np;
    lo_hi = malloc(2 * (size_t)np * sizeof *lo_hi);
    if (!lo_hi) {
        snprintf(r->err, sizeof r->err, "out of memory");
        goto out;
    }
    if (rr_kafka_watermarks(r->ko, r->topic, np, lo_hi, lo_hi + np, r->err, sizeof r->err) < 0)
        goto out;
    for (int32_t p = 0; p < np; p++) {
        int64_t lo = lo_hi[p], hi = lo_hi[np + p];
        char name[300];
        snprintf(name, sizeof name, "%s[%d]", r->topic, p);
        ps[p].start = lo;
        ps[p].end = hi;
        ps[p].eng_part = rr_engine_add_partition(r->eng, name);
        if (ps[p].eng_part < 0) {
            snprintf(r->err, sizeof r->err, "out of memory");
            goto out;
        }
        if (lo < hi)
            rd_kafka_topic_partition_list_add(assign, r->topic, p)->offset = lo;
    }
    if (r->range_end_ms > 0) {
        /* a day range: start at the lookback, and note where the range proper
         * starts in each partition (rejected records before it are the
         * previous range's to publish) */
        int64_t *seek = malloc((size_t)np * sizeof *seek);
        r->range_offsets = malloc((size_t)np * sizeof *r->range_offsets);
        if (!seek || !r->range_offsets) {
            free(seek);
            snprintf(r->err, sizeof r->err, "out of memory");
            goto out;
        }
        int rc = offsets_for_time(rk, r, ps, np, r->seek_ms, seek);
        if (!rc)
            rc = offsets_for_time(rk, r, ps, np, r->range_start_ms, r->range_offsets);
        for (int i = 0; !rc && i < assign->cnt; i++) {
            int32_t p = assign->elems[i].partition;
            assign->elems[i].offset = ps[p].start = seek[p];
        }
        free(seek);
        if (rc)
            goto out;
    }
    for (int32_t p = 0; p < np; p++)
        ps[p].next = ps[p].start;
    if (r->publish && assign->cnt) {
        /* Published before? The group's offsets commit in the results'
         * transaction, so offsets at every end mean an earlier run (perhaps
         * killed between its commit and its exit) published exactly this:
         * doing it again would publish every record twice. */
        rd_kafka_topic_partition_list_t *done = rd_kafka_topic_partition_list_copy(assign);
        rd_kafka_resp_err_t e = rd_kafka_committed(rk, done, 10000);
        int all = !e;
        for (int i = 0; all && i < done->cnt; i++) {
            const rd_kafka_topic_partition_t *c = &done->elems[i];
            if (r->range_label) /* this range's run committed (its stop offsets vary) */
                all = !c->err && c->metadata && c->metadata_size == strlen(r->range_label) &&
                      !memcmp(c->metadata, r->range_label, c->metadata_size);
            else
                all = !c->err && c->offset >= ps[c->partition].end;
        }
        rd_kafka_topic_partition_list_destroy(done);
        if (e) {
            snprintf(r->err, sizeof r->err, "%s: cannot read the group's committed offsets: %s",
                     r->topic, rd_kafka_err2str(e));
            goto out;
        }
        if (all) {
            fprintf(stderr,
                    "replyrate run: %s: group '%s' has committed %s: already published, nothing to "
                    "do (another --group publishes again)\n",
                    r->topic, r->group ? r->group : "replyrate",
                    r->range_label ? "this day range" : "every end offset");
            r->already_published = 1;
            for (int32_t p = 0; p < np; p++)
                ps[p].start = ps[p].end; /* read nothing */
        }
    }
    for (int32_t p = 0; p < np; p++)
        if (ps[p].start >= ps[p].end) /* nothing to read */
            finish_partition(rk, r, ps, p, &remaining);
    if (remaining && !r->already_published) {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign);
        if (e) {
            snprintf(r->err, sizeof r->err, "%s: assign: %s", r->topic, rd_kafka_err2str(e));
            goto out;
        }
    }
    q = rd_kafka_queue_get_consumer(rk);
    double last_warn = 0;
    while (remaining) {
        ssize_t n = rd_kafka_consume_batch_queue(q, WAIT_MS, msgs, BATCH);
        if (n < 0) {
            snprintf(r->err, sizeof r->err, "%s: consume: %s", r->topic,
                     rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
        size_t run_start = 0, run_n = 0;
        for (ssize_t i = 0; i <= n; i++) {
            rd_kafka_message_t *m = i < n ? msgs[i] : NULL;
            int usable = m && !m->err && m->partition >= 0 && m->partition < np &&
                         !ps[m->partition].done && m->offset < ps[m->partition].end;
            /* flush the run of one partition's messages before anything else */
            if (run_n && (!usable || m->partition != msgs[run_start]->partition)) {
                int32_t p = msgs[run_start]->partition;
                feed_run(r, ps, msgs + run_start, run_n, recs);
                if (msgs[run_start + run_n - 1]->offset >= ps[p].end - 1 ||
                    (r->range_end_ms > 0 &&
                     rr_engine_partition_watermark(r->eng, ps[p].eng_part) > r->stop_ms))
                    finish_partition(rk, r, ps, p, &remaining); /* read to its end, or past the range */
                run_n = 0;
            }
            if (!m)
                break;
            if (usable) {
                if (!run_n)
                    run_start = (size_t)i;
                run_n++;
                continue;
            }
            if (!m->err) { /* past the end captured at start (or a partition we do not know) */
                if (m->partition >= 0 && m->partition < np && m->offset >= ps[m->partition].end)
                    finish_partition(rk, r, ps, m->partition, &remaining);
            } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (m->partition >= 0 && m->partition < np && m->offset >= ps[m->partition].end)
                    finish_partition(rk, r, ps, m->partition, &remaining);
            } else if (m->err) {
                char fatal[256];
                if (rd_kafka_fatal_error(rk, fatal, sizeof fatal)) {
                    snprintf(r->err, sizeof r->err, "%s: %s", r->topic, fatal);
                    goto out_msgs;
                }
                if (!r->quiet && rr_mono_s() - last_warn > 5) { /* transient: the client retries */
                    fprintf(stderr, "replyrate run: %s: %s (waiting)\n", r->topic,
                            rd_kafka_message_errstr(m));
                    last_warn = rr_mono_s();
                }
            }
        }
        for (ssize_t i = 0; i < n; i++)
            rd_kafka_message_destroy(msgs[i]);
        if (!r->quiet && rr_mono_s() > next_progress) {
            rr_stats_t st;
            rr_engine_stats(r->eng, &st);
            rr_print_progress(st.input, rr_mono_s() - t0, st.open_conversations, st.open_days);
            next_progress += 5;
        }
        continue;
    out_msgs:
        for (ssize_t i = 0; i < n; i++)
            rd_kafka_message_destroy(msgs[i]);
        goto out;
    }
    rr_engine_finish(r->eng);
    if (r->publish && !r->already_published) {
        if (rr_engine_error(r->eng)) {
            snprintf(r->err, sizeof r->err, "%s: nothing published", rr_engine_error(r->eng));
            goto out;
        }
        /* the group's offsets where each partition stopped, in the same
         * transaction; a day range's label as their metadata */
        rd_kafka_topic_partition_list_t *ends = rd_kafka_topic_partition_list_new(np);
        for (int32_t p = 0; p < np; p++) {
            if (ps[p].end <= ps[p].start && !r->range_label)
                continue;
            rd_kafka_topic_partition_t *t = rd_kafka_topic_partition_list_add(ends, r->topic, p);
            t->offset = r->range_label ? ps[p].next : ps[p].end;
            if (r->range_label) {
                t->metadata = strdup(r->range_label); /* freed with the list */
                t->metadata_size = t->metadata ? strlen(r->range_label) : 0;
            }
        }
        int rc = rr_kafka_sink_commit(r->publish, rk, ends, r->err, sizeof r->err);
        rd_kafka_topic_partition_list_destroy(ends);
        if (rc < 0)
            goto out;
    }
    status = 0;
out:
    r->seconds = rr_mono_s() - t0;
    if (q)
        rd_kafka_queue_destroy(q);
    if (assign)
        rd_kafka_topic_partition_list_destroy(assign);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(ps);
    free(lo_hi);
    free(msgs);
    free(recs);
    return status;
}
