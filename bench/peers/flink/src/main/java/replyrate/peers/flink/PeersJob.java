package replyrate.peers.flink;

import replyrate.peers.common.ChatEvent;
import replyrate.peers.common.Part;

import java.time.Duration;
import java.util.Map;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Flink contender of bench/peers.sh: replyrate's douyin_msg_3min, douyin_session_3min,
 * pdd_buyer_3min and tmall_response_time per (shop, day), on a local MiniCluster, in event
 * time with 5 s of bounded out-of-orderness (replyrate's lateness).
 *
 * INPUT is a delimited ChatEvent file, or kafka:HOST:PORT/TOPIC.
 *
 * usage: PeersJob INPUT OUTDIR [--parallelism N] [--state hashmap|rocksdb]
 *        [--watermarks event|periodic] [--rocksdb-timers rocksdb|heap] [--tz ZONE]
 */
public final class PeersJob {
    static final long LATENESS_MS = 5_000L;

    private PeersJob() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: PeersJob INPUT.pb OUTDIR [--parallelism N] [--state hashmap|rocksdb] [--tz ZONE]");
            System.exit(2);
        }
        String input = args[0];
        String outDir = args[1];
        int parallelism = 1;
        String state = "hashmap";
        String tz = "Asia/Shanghai";
        String wmMode = "event";
        String timers = "rocksdb";
        for (int i = 2; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--parallelism": parallelism = Integer.parseInt(args[i + 1]); break;
                case "--state": state = args[i + 1]; break;
                case "--tz": tz = args[i + 1]; break;
                case "--watermarks": wmMode = args[i + 1]; break;
                case "--rocksdb-timers": timers = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }

        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, state);
        /* RocksDB keeps the timers in RocksDB too by default; "heap" keeps them on the heap
         * (Flink's usual tuning when timers are many and short-lived, as here: one per
         * distinct timestamp of a conversation) */
        conf.setString("state.backend.rocksdb.timer-service.factory", timers.toUpperCase(java.util.Locale.ROOT));
        /* most gets here miss (a new event id, a new conversation's state): bloom filters
         * let RocksDB answer those without reading every SST file's index */
        conf.setString("state.backend.rocksdb.use-bloom-filter", System.getProperty("flink.peer.bloom", "true"));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.setParallelism(parallelism);
        env.getConfig().enableObjectReuse();
        env.getConfig().disableGenericTypes(); /* every record and state type has a Flink serializer, never Kryo */

        /* 5 s of bounded out-of-orderness, replyrate's lateness: "event" emits the watermark
         * with every event (replyrate's late verdicts exactly), "periodic" is Flink's usual
         * every-200-ms emission (cheaper; on replayed files it trails far behind) */
        WatermarkStrategy<ChatEvent> watermarks;
        if (wmMode.equals("periodic")) {
            watermarks = WatermarkStrategy.<ChatEvent>forBoundedOutOfOrderness(Duration.ofMillis(LATENESS_MS));
        } else if (wmMode.equals("event")) {
            watermarks = WatermarkStrategy.forGenerator(ctx -> new EveryEventWatermarks(LATENESS_MS));
        } else {
            throw new IllegalArgumentException("--watermarks event|periodic");
        }
        watermarks = watermarks.withTimestampAssigner((e, ts) -> e.tsMs);

        DataStream<ChatEvent> events;
        if (input.startsWith("kafka:")) {
            /* kafka:HOST:PORT/TOPIC: the topic from its start to the end offsets found at
             * start (bounded, as replyrate's run --until-end); watermarks per partition */
            String spec = input.substring("kafka:".length());
            int slash = spec.indexOf('/');
            KafkaSource<ChatEvent> kafka = KafkaSource.<ChatEvent>builder()
                    .setBootstrapServers(spec.substring(0, slash))
                    .setTopics(spec.substring(slash + 1))
                    .setGroupId("replyrate-peers-flink")
                    .setStartingOffsets(OffsetsInitializer.earliest())
                    .setBounded(OffsetsInitializer.latest())
                    .setValueOnlyDeserializer(new ChatEventSchema())
                    .setProperty("commit.offsets.on.checkpoint", "false")
                    .build();
            events = env.fromSource(kafka, watermarks, "chat-events");
        } else {
            FileSource<ChatEvent> file = FileSource
                    .forRecordStreamFormat(new ChatEventFormat(), new Path(input))
                    .build();
            events = env.fromSource(file, watermarks, "chat-events");
        }
        final String zone = tz;
        DataStream<Part> conversations = events
                .keyBy(e -> e.conversationId, Types.LONG)
                .process(new ConversationFunction(zone), TypeInformation.of(Part.class))
                .name("conversations");
        DataStream<Part> buyers = conversations
                .keyBy(p -> Tuple3.of(p.shopId, p.epochDay, p.buyerId), Types.TUPLE(Types.LONG, Types.LONG, Types.LONG))
                .process(new BuyerFunction(), TypeInformation.of(Part.class))
                .name("buyers");
        buyers
                .keyBy(p -> Tuple2.of(p.shopId, p.epochDay), Types.TUPLE(Types.LONG, Types.LONG))
                .process(new ShopDayFunction(), Types.STRING)
                .name("shop-days")
                .addSink(new RecordsSink(outDir))
                .name("records");

        long t0 = System.nanoTime();
        JobExecutionResult r = env.execute("replyrate-peers-flink");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Map<String, Object> acc = r.getAllAccumulatorResults();
        System.err.printf("{\"job_ms\":%d,\"invalid\":%s,\"applied\":%s,\"duplicate\":%s,\"late\":%s,\"parallelism\":%d,\"state\":\"%s\",\"watermarks\":\"%s\",\"rocksdb_timers\":\"%s\"}%n",
                ms, acc.get("invalid"), acc.get("applied"), acc.get("duplicate"), acc.get("late"), parallelism, state, wmMode, timers);
    }
}
