package replyrate.peers.common;

/**
 * Decodes one ChatEvent message by hand from the protobuf wire format (varint and
 * length-delimited fields; unknown fields skipped), so no generated code is needed, and
 * applies the contract's validity rules (type 1..10, ids present, ts in range, a buyer on a
 * buyer message, an agent on an assignment, a rating 1..5 on a rating). Returns null for an
 * invalid record, which the contenders skip. Shared by the JVM contenders (bench/peers/common:
 * each adds this folder to its sources), so they decode and validate alike.
 */
public final class ChatEventCodec {
    public static final long TS_MAX = 253402300799999L;

    private final byte[] buf;
    private int pos;
    private int end;

    private ChatEventCodec(byte[] buf, int off, int len) {
        this.buf = buf;
        this.pos = off;
        this.end = off + len;
    }

    /** The event in buf[off, off + len), or null when it does not decode or is invalid. */
    public static ChatEvent decode(byte[] buf, int off, int len) {
        ChatEvent e = new ChatEventCodec(buf, off, len).decode();
        return e != null && valid(e) ? e : null;
    }

    private long varint() {
        long v = 0;
        for (int shift = 0; shift < 64 && pos < end; shift += 7) {
            int b = buf[pos++] & 0xff;
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("bad varint");
    }

    private ChatEvent decode() {
        ChatEvent e = new ChatEvent();
        try {
            while (pos < end) {
                long key = varint();
                int field = (int) (key >>> 3);
                int wire = (int) (key & 7);
                if (field == 0) {
                    return null;
                }
                switch (wire) {
                    case 0: {
                        long v = varint();
                        switch (field) {
                            case 1: e.eventId = v; break;
                            case 2: e.shopId = v; break;
                            case 3: e.conversationId = v; break;
                            case 4: e.buyerId = v; break;
                            case 5: e.agentId = v; break;
                            case 6: e.tsMs = v; break;
                            case 7: e.type = (int) v; break;
                            case 9: e.rating = (int) v; break;
                            case 10: e.flags = (int) v; break;
                            default: break; /* content (8) and unknown fields */
                        }
                        break;
                    }
                    case 1:
                        if (field <= 10 || end - pos < 8) {
                            return null;
                        }
                        pos += 8;
                        break;
                    case 2: {
                        long l = varint();
                        if (field <= 10 || l > end - pos) {
                            return null;
                        }
                        pos += (int) l;
                        break;
                    }
                    case 5:
                        if (field <= 10 || end - pos < 4) {
                            return null;
                        }
                        pos += 4;
                        break;
                    default:
                        return null;
                }
            }
        } catch (IllegalArgumentException bad) {
            return null;
        }
        return e;
    }

    public static boolean valid(ChatEvent e) {
        if (e.type < 1 || e.type > 10) {
            return false;
        }
        if (e.eventId == 0 || e.shopId == 0 || e.conversationId == 0) {
            return false;
        }
        if (e.tsMs < 1 || e.tsMs > TS_MAX) {
            return false;
        }
        if (e.type == ChatEvent.BUYER_MESSAGE && e.buyerId == 0) {
            return false;
        }
        if (e.type == ChatEvent.AGENT_ASSIGNED && e.agentId == 0) {
            return false;
        }
        return e.type != ChatEvent.RATING || (e.rating >= 1 && e.rating <= 5);
    }
}
