package replyrate.peers.kstreams;

import replyrate.peers.common.ChatEvent;
import replyrate.peers.common.Part;
import replyrate.peers.common.Conv;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** A compact hand-written binary form of a Slot for the state store (and its changelog). */
final class SlotSerde implements Serde<Slot>, Serializer<Slot>, Deserializer<Slot> {
    @Override
    public Serializer<Slot> serializer() {
        return this;
    }

    @Override
    public Deserializer<Slot> deserializer() {
        return this;
    }

    @Override
    public byte[] serialize(String topic, Slot s) {
        if (s == null) {
            return null;
        }
        int n = 8 + 8 + 4 + 4 + s.idCount * 8 + 4;
        for (List<ChatEvent> b : s.buffer.values()) {
            n += 4 + b.size() * 45;
        }
        Conv c = s.conv;
        n += 1;
        if (c != null) {
            n += 1 + 8 * 4 + 4 + c.pendingCount * 16 + 4 + c.roundCount * 16 + 4 + c.dayCount * PART_BYTES;
        }
        ByteBuffer o = ByteBuffer.allocate(n);
        o.putLong(s.shopOf).putLong(s.buyerOf);
        o.putInt(s.idCount);
        for (int i = 0; i < s.idCount; i++) {
            o.putLong(s.ids[i]);
        }
        o.putInt(s.buffer.size());
        for (List<ChatEvent> b : s.buffer.values()) {
            o.putInt(b.size());
            for (ChatEvent e : b) {
                o.putLong(e.eventId).putLong(e.shopId).putLong(e.conversationId).putLong(e.buyerId)
                        .putLong(e.tsMs).put((byte) e.type).putInt(e.flags);
            }
        }
        if (c == null) {
            o.put((byte) 0);
        } else {
            o.put((byte) 1);
            o.put((byte) (c.manual ? 1 : 0)).putLong(c.shopId).putLong(c.buyerId).putLong(c.maxTs).putLong(c.cleanupAt);
            o.putInt(c.pendingCount);
            for (int i = 0; i < c.pendingCount; i++) {
                o.putLong(c.pendingTs[i]).putLong(c.pendingDay[i]);
            }
            o.putInt(c.roundCount);
            for (int i = 0; i < c.roundCount; i++) {
                o.putLong(c.roundStart[i]).putLong(c.roundDay[i]);
            }
            o.putInt(c.dayCount);
            for (int i = 0; i < c.dayCount; i++) {
                putPart(o, c.days[i]);
            }
        }
        return o.array();
    }

    static final int PART_BYTES = 8 * 13 + 2 + 8 * 8;

    static void putPart(ByteBuffer o, Part p) {
        o.putLong(p.shopId).putLong(p.epochDay).putLong(p.buyerId).putLong(p.msgNum).putLong(p.msgDen)
                .putLong(p.sessNum).putLong(p.sessDen).putLong(p.buyerNum).putLong(p.buyerDen)
                .putLong(p.rtNum).putLong(p.rtDen).putLong(p.rtUnanswered).putLong(0L)
                .put((byte) (p.buyerSeen ? 1 : 0)).put((byte) (p.buyerOk ? 1 : 0));
        for (int i = 0; i < 8; i++) {
            o.putLong(p.rtBuckets[i]);
        }
    }

    static Part getPart(ByteBuffer in) {
        Part p = new Part();
        p.shopId = in.getLong();
        p.epochDay = in.getLong();
        p.buyerId = in.getLong();
        p.msgNum = in.getLong();
        p.msgDen = in.getLong();
        p.sessNum = in.getLong();
        p.sessDen = in.getLong();
        p.buyerNum = in.getLong();
        p.buyerDen = in.getLong();
        p.rtNum = in.getLong();
        p.rtDen = in.getLong();
        p.rtUnanswered = in.getLong();
        in.getLong();
        p.buyerSeen = in.get() != 0;
        p.buyerOk = in.get() != 0;
        for (int i = 0; i < 8; i++) {
            p.rtBuckets[i] = in.getLong();
        }
        return p;
    }

    @Override
    public Slot deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(data);
        Slot s = new Slot();
        s.shopOf = in.getLong();
        s.buyerOf = in.getLong();
        s.idCount = in.getInt();
        s.ids = new long[Math.max(8, s.idCount * 2)];
        for (int i = 0; i < s.idCount; i++) {
            s.ids[i] = in.getLong();
        }
        int buckets = in.getInt();
        for (int k = 0; k < buckets; k++) {
            int m = in.getInt();
            List<ChatEvent> b = Slot.newBucket();
            for (int j = 0; j < m; j++) {
                ChatEvent e = new ChatEvent();
                e.eventId = in.getLong();
                e.shopId = in.getLong();
                e.conversationId = in.getLong();
                e.buyerId = in.getLong();
                e.tsMs = in.getLong();
                e.type = in.get();
                e.flags = in.getInt();
                b.add(e);
            }
            s.buffer.put(b.get(0).tsMs, b);
        }
        if (in.get() != 0) {
            Conv c = new Conv();
            c.manual = in.get() != 0;
            c.shopId = in.getLong();
            c.buyerId = in.getLong();
            c.maxTs = in.getLong();
            c.cleanupAt = in.getLong();
            c.pendingCount = in.getInt();
            c.pendingTs = new long[Math.max(4, c.pendingCount * 2)];
            c.pendingDay = new long[c.pendingTs.length];
            for (int i = 0; i < c.pendingCount; i++) {
                c.pendingTs[i] = in.getLong();
                c.pendingDay[i] = in.getLong();
            }
            c.roundCount = in.getInt();
            c.roundStart = new long[Math.max(2, c.roundCount * 2)];
            c.roundDay = new long[c.roundStart.length];
            for (int i = 0; i < c.roundCount; i++) {
                c.roundStart[i] = in.getLong();
                c.roundDay[i] = in.getLong();
            }
            c.dayCount = in.getInt();
            c.days = new Part[Math.max(2, c.dayCount * 2)];
            for (int i = 0; i < c.dayCount; i++) {
                c.days[i] = getPart(in);
            }
            s.conv = c;
        }
        return s;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {}

    @Override
    public void close() {}
}
