/* rr_kafka_bench: the raw consume rate of a topic, the floor a Kafka run is
 * measured against (bench/kafka.sh, issue 3: a bounded run at >= 0.8 of it).
 *
 *   rr_kafka_bench --brokers HOST:PORT --topic NAME [-X key=value ...]
 *
 * A bare librdkafka consumer with the settings `replyrate run --brokers`
 * uses (rr_kafka_reader_new) reads every partition from its start to its
 * end captured at start, touching every payload byte (a checksum), and
 * prints one JSON line: messages, bytes, wall and CPU seconds.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/clock.h"
#include "io/kafka.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                         {"topic", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    rr_kafka_opts_t ko = {0};
    const char *topic = NULL;
    char err[512];
    int c;
    while ((c = getopt_long(argc, argv, "b:t:X:", opts, NULL)) != -1) {
        if (c == 'b')
            ko.brokers = optarg;
        else if (c == 't')
            topic = optarg;
        else if (c == 'X' && rr_kafka_add_prop(&ko, optarg, err, sizeof err) == 0)
            continue;
        else {
            fprintf(stderr,
                    "usage: rr_kafka_bench --brokers HOST:PORT --topic NAME [-X k=v ...]\n");
            return 2;
        }
    }
    if (!ko.brokers || !topic) {
        fprintf(stderr, "rr_kafka_bench: --brokers and --topic are required\n");
        return 2;
    }
    double t0 = rr_mono_s(), c0 = cpu_s();
    rd_kafka_t *rk =
        rr_kafka_reader_new(&ko, "rr-kafka-bench", err, sizeof err); /* run's settings */
    if (!rk) {
        fprintf(stderr, "rr_kafka_bench: %s\n", err);
        return 2;
    }
    int np = rr_kafka_partition_count(rk, topic, 10000, err, sizeof err);
    if (np <= 0 || np > 1024) {
        fprintf(stderr, "rr_kafka_bench: %s\n", np == 0 ? "no such topic" : err);
        return 1;
    }
    int64_t lo[1024], hi[1024];
    if (rr_kafka_watermarks(&ko, topic, np, lo, hi, err, sizeof err) < 0) {
        fprintf(stderr, "rr_kafka_bench: %s\n", err);
        return 1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
    int remaining = 0;
    for (int p = 0; p < np; p++)
        if (lo[p] < hi[p]) {
            rd_kafka_topic_partition_list_add(l, topic, p)->offset = lo[p];
            remaining++;
        } else {
            hi[p] = -1;
        }
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[4096];
    unsigned long long n_msgs = 0, bytes = 0, sum = 0;
    while (remaining > 0) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 200, msgs, 4096);
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = msgs[i];
            int32_t p = m->partition;
            int live = p >= 0 && p < np && hi[p] >= 0;
            if (!m->err && live && m->offset < hi[p]) {
                const unsigned char *d = m->payload;
                for (size_t k = 0; k < m->len; k++)
                    sum += d[k];
                n_msgs++;
                bytes += m->len;
            }
            if (live && ((!m->err && m->offset >= hi[p] - 1) ||
                         (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->offset >= hi[p]))) {
                hi[p] = -1;
                remaining--;
            }
            rd_kafka_message_destroy(m);
        }
    }
    double wall = rr_mono_s() - t0, cpu = cpu_s() - c0;
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    printf("{\"mode\":\"consume\",\"messages\":%llu,\"bytes\":%llu,\"wall_s\":%.4f,\"cpu_s\":%.4f,"
           "\"events_per_s\":%.0f,\"checksum\":%llu}\n",
           n_msgs, bytes, wall, cpu, wall > 0 ? (double)n_msgs / wall : 0.0, sum);
    return 0;
}
