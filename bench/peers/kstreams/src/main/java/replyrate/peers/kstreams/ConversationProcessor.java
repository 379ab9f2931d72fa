package replyrate.peers.kstreams;

import replyrate.peers.common.ChatEvent;
import replyrate.peers.common.ChatEventCodec;
import replyrate.peers.common.Days;
import replyrate.peers.common.Part;
import replyrate.peers.common.Conv;
import replyrate.peers.common.ConversationLogic;
import replyrate.peers.common.Records;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * One input partition's replay (one task; the topic is partitioned by shop, so a shop, its
 * buyers and their conversations are all in one partition). The per-conversation rules are
 * ConversationLogic's (bench/peers/common, docs/metrics.md, "Conversations"), as the Flink
 * contender's, with what Flink gives for free done by hand, since Kafka Streams has neither watermarks nor event-time
 * timers:
 * <ul>
 * <li>the watermark: greatest ts_ms of the partition's valid events - lateness - 1, raised
 * after each event (as the Flink contender's per-event watermarks): an event with
 * ts &lt;= watermark is late;</li>
 * <li>event-time timers: a queue (time, conversation id) in the processor, fired in time
 * order when the watermark passes them: a bucket of buffered events at its timestamp, a day's
 * end + H, a conversation's end of life. Kafka Streams' stream-time punctuators fire at
 * intervals of stream time, not per key, and stream time has no lateness.</li>
 * </ul>
 * Both are kept in stores too ("timers": one key per (time, conversation); "clock": the
 * greatest ts), so a task that Kafka Streams closes and restores from its changelogs (after a
 * transaction timeout, a rebalance) rebuilds its queue and watermark as of its last commit,
 * like the rest of its state. Without them a restored task lost its pending timers: the
 * conversations they would have closed never reached their shop's day.
 * Conversation state lives in the "conversations" store (a Slot per conversation id); a day's
 * final counts go to "shop_days" (summed per shop and day) and "buyers" (per shop, day,
 * buyer: seen, all in time). At the end offset captured at start the watermark goes to
 * +infinity (as a bounded Flink source's), every timer fires and the task writes
 * OUTDIR/records-PARTITION.jsonl.
 */
final class ConversationProcessor implements Processor<byte[], byte[], Void, Void> {
    static final long LATENESS_MS = 5_000L;

    private final Days days;
    private final App.Run run;
    private ProcessorContext<Void, Void> ctx;
    private KeyValueStore<Long, Slot> convs;
    private KeyValueStore<Bytes, byte[]> shopDays;
    private KeyValueStore<Bytes, byte[]> buyers;
    private KeyValueStore<Bytes, byte[]> timerStore;
    private KeyValueStore<Bytes, byte[]> clock;
    private static final Bytes MAX_KEY = Bytes.wrap(new byte[] {0});
    private static final byte[] NONE = new byte[0];
    private int partition;
    private long endOffset;
    private long max = Long.MIN_VALUE;
    private long watermark = Long.MIN_VALUE;
    private boolean finished;
    private final TreeMap<Long, LinkedHashSet<Long>> timers = new TreeMap<>();

    ConversationProcessor(String zone, App.Run run) {
        this.days = new Days(zone);
        this.run = run;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        ctx = context;
        convs = context.getStateStore("conversations");
        shopDays = context.getStateStore("shop_days");
        buyers = context.getStateStore("buyers");
        timerStore = context.getStateStore("timers");
        clock = context.getStateStore("clock");
        partition = context.taskId().partition();
        endOffset = run.endOffsets.getOrDefault(partition, 0L);
        /* a restored task: its queue and watermark as of its last commit */
        try (KeyValueIterator<Bytes, byte[]> it = timerStore.all()) {
            while (it.hasNext()) {
                ByteBuffer k = ByteBuffer.wrap(it.next().key.get());
                long t = k.getLong();
                timers.computeIfAbsent(t, x -> new LinkedHashSet<>()).add(k.getLong());
            }
        }
        byte[] m = clock.get(MAX_KEY);
        if (m != null) {
            max = ByteBuffer.wrap(m).getLong();
            watermark = max - LATENESS_MS - 1;
            run.restored.incrementAndGet();
        }
    }

    @Override
    public void process(Record<byte[], byte[]> r) {
        byte[] v = r.value();
        ChatEvent e = v == null ? null : ChatEventCodec.decode(v, 0, v.length);
        if (e == null) {
            run.invalid.incrementAndGet();
        } else {
            accept(e);
            if (e.tsMs > max) {
                max = e.tsMs;
                clock.put(MAX_KEY, ByteBuffer.allocate(8).putLong(max).array());
                advance(max - LATENESS_MS - 1);
            }
        }
        long offset = ctx.recordMetadata().map(m -> m.offset()).orElse(-1L);
        if (offset >= endOffset - 1 && !finished) {
            finish();
        }
    }

    private void accept(ChatEvent e) {
        /* the verdicts in replyrate's order: invalid, late, duplicate, applied */
        Slot s = convs.get(e.conversationId);
        long shop = s == null ? 0 : s.shopOf;
        long buyer = s == null || e.type != ChatEvent.BUYER_MESSAGE ? 0 : s.buyerOf;
        if ((shop != 0 && shop != e.shopId) || (buyer != 0 && buyer != e.buyerId)) {
            run.invalid.incrementAndGet();
            return;
        }
        if (e.tsMs <= watermark) {
            run.late.incrementAndGet();
            return;
        }
        if (s != null && s.seen(e.eventId)) {
            run.duplicate.incrementAndGet();
            return;
        }
        if (s == null) {
            s = new Slot();
        }
        s.addId(e.eventId);
        if (shop == 0) {
            s.shopOf = e.shopId;
        }
        if (e.type == ChatEvent.BUYER_MESSAGE && s.buyerOf == 0) {
            s.buyerOf = e.buyerId;
        }
        List<ChatEvent> bucket = s.buffer.get(e.tsMs);
        if (bucket == null) {
            bucket = Slot.newBucket();
            s.buffer.put(e.tsMs, bucket);
            timer(e.tsMs, e.conversationId);
        }
        bucket.add(e);
        convs.put(e.conversationId, s);
    }

    private void timer(long t, long conv) {
        if (timers.computeIfAbsent(t, k -> new LinkedHashSet<>()).add(conv)) {
            timerStore.put(key(t, conv), NONE);
        }
    }

    private void advance(long wm) {
        watermark = wm;
        Map.Entry<Long, LinkedHashSet<Long>> first;
        while ((first = timers.firstEntry()) != null && first.getKey() <= wm) {
            timers.pollFirstEntry();
            for (long conv : first.getValue()) {
                timerStore.delete(key(first.getKey(), conv));
                onTimer(first.getKey(), conv);
            }
        }
    }

    private void onTimer(long t, long id) {
        Slot s = convs.get(id);
        if (s == null) {
            return;
        }
        Conv c = s.conv;
        List<ChatEvent> bucket = s.buffer.remove(t);
        if (bucket != null) {
            if (c == null) {
                c = new Conv();
                s.conv = c;
            }
            bucket.sort((a, b) -> Long.compare(a.eventId, b.eventId));
            for (ChatEvent e : bucket) {
                ConversationLogic.apply(c, e, days, this::timer, id);
                run.applied.incrementAndGet();
            }
        }
        if (c == null) {
            convs.put(id, s);
            return;
        }
        /* days whose end + H is reached: every reply that could count for them is applied */
        ConversationLogic.closeDays(c, days, t, this::dayDone);
        if (t == c.cleanupAt) {
            long expiry = ConversationLogic.expiry(c, days);
            if (expiry + 1 > t) {
                c.cleanupAt = expiry + 1;
                timer(c.cleanupAt, id);
            } else if (c.dayCount == 0 && s.buffer.isEmpty()) {
                convs.delete(id); /* over: a later event under this id starts afresh */
                return;
            }
        }
        convs.put(id, s);
    }

    private static Bytes key(long... parts) {
        ByteBuffer b = ByteBuffer.allocate(parts.length * 8);
        for (long p : parts) {
            b.putLong(p);
        }
        return Bytes.wrap(b.array());
    }

    /** A conversation's final counts for a day: into its shop's day, and its buyer's. */
    private void dayDone(Part p) {
        Bytes k = key(p.shopId, p.epochDay);
        byte[] old = shopDays.get(k);
        Part a;
        if (old == null) {
            a = new Part();
            a.shopId = p.shopId;
            a.epochDay = p.epochDay;
        } else {
            a = SlotSerde.getPart(ByteBuffer.wrap(old));
        }
        a.add(p);
        ByteBuffer o = ByteBuffer.allocate(SlotSerde.PART_BYTES);
        SlotSerde.putPart(o, a);
        shopDays.put(k, o.array());
        if (p.buyerSeen) {
            Bytes bk = key(p.shopId, p.epochDay, p.buyerId);
            byte[] b = buyers.get(bk);
            boolean ok = (b == null || b[0] != 0) && p.buyerOk;
            buyers.put(bk, new byte[] {(byte) (ok ? 1 : 0)});
        }
    }

    /** End of input: the watermark to +infinity, then the records of every (shop, day). */
    private void finish() {
        finished = true;
        advance(Long.MAX_VALUE);
        try (KeyValueIterator<Bytes, byte[]> it = buyers.all()) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                ByteBuffer kb = ByteBuffer.wrap(kv.key.get());
                Bytes k = key(kb.getLong(), kb.getLong());
                Part a = SlotSerde.getPart(ByteBuffer.wrap(shopDays.get(k)));
                a.buyerDen++;
                a.buyerNum += kv.value[0] != 0 ? 1 : 0;
                ByteBuffer o = ByteBuffer.allocate(SlotSerde.PART_BYTES);
                SlotSerde.putPart(o, a);
                shopDays.put(k, o.array());
            }
        }
        try (BufferedWriter w = Files.newBufferedWriter(Paths.get(run.outDir, "records-" + partition + ".jsonl"),
                StandardCharsets.UTF_8);
                KeyValueIterator<Bytes, byte[]> it = shopDays.all()) {
            while (it.hasNext()) {
                for (String line : Records.lines(SlotSerde.getPart(ByteBuffer.wrap(it.next().value)))) {
                    w.write(line);
                    w.write('\n');
                }
            }
        } catch (IOException io) {
            throw new UncheckedIOException(io);
        }
        run.partitionDone();
    }
}
