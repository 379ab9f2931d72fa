package replyrate.peers.flink;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import replyrate.peers.common.ChatEvent;
import replyrate.peers.common.ChatEventCodec;

/** ChatEventCodec as a Kafka value deserializer: null for an invalid record, which the source skips. */
public final class ChatEventSchema implements DeserializationSchema<ChatEvent> {
    private static final long serialVersionUID = 1L;

    @Override
    public ChatEvent deserialize(byte[] message) {
        return message == null ? null : ChatEventCodec.decode(message, 0, message.length);
    }

    @Override
    public boolean isEndOfStream(ChatEvent e) {
        return false;
    }

    @Override
    public TypeInformation<ChatEvent> getProducedType() {
        return TypeInformation.of(ChatEvent.class);
    }
}
