package replyrate.peers.flink;

import replyrate.peers.common.ChatEvent;
import replyrate.peers.common.ChatEventCodec;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;

/**
 * A FileSource format for delimited protobuf ChatEvents: each record is a varint length
 * followed by that many bytes of a ChatEvent ({@link ChatEventCodec}). Invalid records are
 * dropped here and never reach the watermark.
 */
public class ChatEventFormat extends SimpleStreamFormat<ChatEvent> {
    private static final long serialVersionUID = 1L;

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
                    return null; /* replyrate's record_too_large: the file ends there */
                }
                int n = (int) len;
                if (buf.length < n) {
                    buf = new byte[Math.max(n, buf.length * 2)];
                }
                int got = in.readNBytes(buf, 0, n);
                if (got < n) {
                    return null; /* a record cut short by the end of the file: invalid, and the last */
                }
                ChatEvent e = ChatEventCodec.decode(buf, 0, n);
                if (e != null) {
                    return e;
                }
                invalid++;
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }

        /** The varint before a record; -1 where the file ends or its framing breaks. */
        private long readLengthPrefix() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = in.read();
                if (b < 0) {
                    return -1; /* clean end, or a prefix cut short: one last invalid record */
                }
                v |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            return -1; /* a prefix longer than 10 bytes: the file ends there, as in replyrate */
        }
    }
}
