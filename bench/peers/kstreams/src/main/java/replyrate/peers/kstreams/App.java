package replyrate.peers.kstreams;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams contender of bench/peers.sh: replyrate's douyin_msg_3min,
 * douyin_session_3min, pdd_buyer_3min and tmall_response_time per (shop, day), with the
 * Processor API, state stores and processing.guarantee=exactly_once_v2, reading a topic on a
 * real broker from its start to the end offsets found at start.
 *
 * usage: App HOST:PORT TOPIC OUTDIR [--stores memory|rocksdb] [--threads N] [--tz ZONE]
 *        [--changelog on|off] [--commit-ms MS] [--guarantee exactly_once_v2|at_least_once]
 *        [--transaction-timeout-ms MS]
 * (the last four are diagnostics: what the changelogs, commits and transactions cost; a short
 * transaction timeout, as Kafka Streams' own default of 10 s, makes the long end-of-input step
 * time out, so the task is closed and restored from its changelogs: the restore path)
 */
public final class App {
    private App() {}

    /** What the tasks share with main: the end offsets, the counts, the finish line. */
    static final class Run {
        final Map<Integer, Long> endOffsets = new ConcurrentHashMap<>();
        final String outDir;
        final AtomicLong invalid = new AtomicLong();
        final AtomicLong late = new AtomicLong();
        final AtomicLong duplicate = new AtomicLong();
        final AtomicLong applied = new AtomicLong();
        /* tasks that found a clock in their store at init: restored from a changelog */
        final AtomicLong restored = new AtomicLong();
        CountDownLatch done;

        Run(String outDir) {
            this.outDir = outDir;
        }

        void partitionDone() {
            done.countDown();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: App HOST:PORT TOPIC OUTDIR [--stores memory|rocksdb] [--threads N] [--tz ZONE]");
            System.exit(2);
        }
        String brokers = args[0];
        String topic = args[1];
        Run run = new Run(args[2]);
        String stores = "memory";
        int threads = 1;
        String tz = "Asia/Shanghai";
        boolean changelog = true;
        long commitMs = -1;
        int txTimeoutMs = 900_000;
        String guarantee = StreamsConfig.EXACTLY_ONCE_V2;
        for (int i = 3; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--stores": stores = args[i + 1]; break;
                case "--threads": threads = Integer.parseInt(args[i + 1]); break;
                case "--tz": tz = args[i + 1]; break;
                case "--changelog": changelog = args[i + 1].equals("on"); break;
                case "--commit-ms": commitMs = Long.parseLong(args[i + 1]); break;
                case "--guarantee": guarantee = args[i + 1]; break;
                case "--transaction-timeout-ms": txTimeoutMs = Integer.parseInt(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        long t0 = System.nanoTime();

        /* the end offsets found at start: the run stops when every partition reaches its own */
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        int nonEmpty = 0;
        try (Admin admin = Admin.create(ap)) {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            Map<TopicPartition, OffsetSpec> q = new HashMap<>();
            d.partitions().forEach(p -> q.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            Map<TopicPartition, Long> ends = admin.listOffsets(q).all().get().entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            Map<TopicPartition, Long> starts = admin.listOffsets(q.keySet().stream()
                    .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.earliest()))).all().get().entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
                run.endOffsets.put(e.getKey().partition(), e.getValue());
                if (e.getValue() > starts.get(e.getKey())) {
                    nonEmpty++;
                }
            }
        }
        run.done = new CountDownLatch(nonEmpty);

        final String zone = tz;
        Topology t = new Topology();
        t.addSource("events", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), topic);
        t.addProcessor("conversations", () -> new ConversationProcessor(zone, run), "events");
        boolean rocks = stores.equals("rocksdb");
        if (!rocks && !stores.equals("memory")) {
            throw new IllegalArgumentException("--stores memory|rocksdb");
        }
        StoreBuilder<KeyValueStore<Long, Slot>> conv = Stores.keyValueStoreBuilder(
                rocks ? Stores.persistentKeyValueStore("conversations") : Stores.inMemoryKeyValueStore("conversations"),
                Serdes.Long(), new SlotSerde());
        StoreBuilder<KeyValueStore<Bytes, byte[]>> shopDays = Stores.keyValueStoreBuilder(
                rocks ? Stores.persistentKeyValueStore("shop_days") : Stores.inMemoryKeyValueStore("shop_days"),
                Serdes.Bytes(), Serdes.ByteArray());
        StoreBuilder<KeyValueStore<Bytes, byte[]>> buyers = Stores.keyValueStoreBuilder(
                rocks ? Stores.persistentKeyValueStore("buyers") : Stores.inMemoryKeyValueStore("buyers"),
                Serdes.Bytes(), Serdes.ByteArray());
        /* the timer queue and the watermark, so a restored task has them (ConversationProcessor);
           cached: a timer set and fired within one commit interval never reaches the changelog */
        StoreBuilder<KeyValueStore<Bytes, byte[]>> timerStore = Stores.keyValueStoreBuilder(
                rocks ? Stores.persistentKeyValueStore("timers") : Stores.inMemoryKeyValueStore("timers"),
                Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled();
        StoreBuilder<KeyValueStore<Bytes, byte[]>> clock = Stores.keyValueStoreBuilder(
                rocks ? Stores.persistentKeyValueStore("clock") : Stores.inMemoryKeyValueStore("clock"),
                Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled();
        if (!changelog) {
            conv.withLoggingDisabled();
            shopDays.withLoggingDisabled();
            buyers.withLoggingDisabled();
            timerStore.withLoggingDisabled();
            clock.withLoggingDisabled();
        }
        t.addStateStore(conv, "conversations");
        t.addStateStore(shopDays, "conversations");
        t.addStateStore(buyers, "conversations");
        t.addStateStore(timerStore, "conversations");
        t.addStateStore(clock, "conversations");

        Properties p = new Properties();
        /* a new application id per run: no committed offsets, fresh changelogs */
        String appId = "replyrate-peers-kstreams-" + System.currentTimeMillis();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        if (commitMs >= 0) {
            p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs); /* exactly_once_v2's default: 100 */
        }
        p.put(StreamsConfig.STATE_DIR_CONFIG, Paths.get(run.outDir, "state").toString());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        /* the end of input is one process() call that fires every pending timer and writes the
           records: minutes with millions of open conversations, so the transaction and the poll
           interval may last up to the broker's transaction.max.timeout.ms (15 min) */
        p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), txTimeoutMs);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG), Math.max(txTimeoutMs, 300_000));
        Files.createDirectories(Paths.get(run.outDir));

        KafkaStreams streams = new KafkaStreams(t, p);
        streams.setUncaughtExceptionHandler(ex -> {
            ex.printStackTrace();
            System.exit(1);
            return null;
        });
        streams.start();
        run.done.await();
        long processed = System.nanoTime();
        streams.close(Duration.ofSeconds(60));
        streams.cleanUp();
        /* the run's changelog topics would pile up on the broker (gigabytes at 10M): drop them */
        try (Admin admin = Admin.create(ap)) {
            List<String> internal = admin.listTopics().names().get().stream()
                    .filter(n -> n.startsWith(appId + "-")).collect(Collectors.toList());
            admin.deleteTopics(internal).all().get();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.err.printf("{\"app_ms\":%d,\"to_end_ms\":%d,\"invalid\":%d,\"applied\":%d,\"duplicate\":%d,\"late\":%d,\"threads\":%d,\"stores\":\"%s\",\"changelog\":%b,\"guarantee\":\"%s\",\"partitions\":%d,\"restored\":%d}%n",
                ms, (processed - t0) / 1_000_000, run.invalid.get(), run.applied.get(), run.duplicate.get(),
                run.late.get(), threads, stores, changelog, guarantee, run.endOffsets.size(),
                run.restored.get());
    }
}
