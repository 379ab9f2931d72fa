package replyrate.peers.flink;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;

/**
 * A FileSource format for delimited protobuf ChatEvents: each record is a varint length
 * followed by that many bytes of a ChatEvent. The wire format is decoded by hand (varint and
 * length-delimited fields, unknown fields skipped), so no generated code is needed.
 *
 * Records that do not decode or break the contract's validity rules (type outside 1..10,
 * a missing id, ts out of range, a buyer message without a buyer, an assignment without an
 * agent) are dropped here and counted in {@link #invalid}; they never reach the watermark.
 */
public class ChatEventFormat extends SimpleStreamFormat<ChatEvent> {
    private static final long serialVersionUID = 1L;
    static final long TS_MAX = 253402300799999L;

    @Override
    public StreamFormat.Reader<ChatEvent> createReader(Configuration config, FSDataInputStream stream) {
        return new Reader(stream);
    }

    @Override
    public TypeInformation<ChatEvent> getProducedType() {
        return TypeInformation.of(ChatEvent.class);
    }

    static final class Reader implements StreamFormat.Reader<ChatEvent> {
        private final InputStream in;
        private byte[] buf = new byte[256];
        private int pos;
        private int end;
        long invalid;

        Reader(InputStream in) {
            this.in = new BufferedInputStream(in, 1 << 16);
        }

        @Override
        public ChatEvent read() throws IOException {
            while (true) {
                long len = readLengthPrefix();
                if (len < 0) {
                    return null;
                }
                if (len > (64 << 20)) {
                    throw new IOException("record too large: " + len);
                }
                int n = (int) len;
                if (buf.length < n) {
                    buf = new byte[Math.max(n, buf.length * 2)];
                }
                int got = in.readNBytes(buf, 0, n);
                if (got < n) {
                    return null; /* a record cut short by the end of the file: invalid, and the last */
                }
                pos = 0;
                end = n;
                ChatEvent e = decode();
                if (e != null && valid(e)) {
                    return e;
                }
                invalid++;
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }

        /** The varint before a record; -1 at a clean end of file. */
        private long readLengthPrefix() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = in.read();
                if (b < 0) {
                    if (shift == 0) {
                        return -1;
                    }
                    throw new EOFException("broken length prefix");
                }
                v |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            throw new IOException("broken length prefix");
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

        private static boolean valid(ChatEvent e) {
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
}
