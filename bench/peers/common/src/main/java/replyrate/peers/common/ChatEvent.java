package replyrate.peers.common;

/**
 * One replyrate.v1.ChatEvent (proto/replyrate/v1/chat_event.proto), a plain Java object.
 * Only the fields the four benchmarked metrics read are kept.
 */
public class ChatEvent {
    public static final int SESSION_START = 1;
    public static final int TRANSFER_TO_MANUAL = 2;
    public static final int AGENT_ASSIGNED = 3;
    public static final int BUYER_MESSAGE = 4;
    public static final int AGENT_MESSAGE = 5;
    public static final int ROBOT_MESSAGE = 6;
    public static final int SYSTEM_MESSAGE = 7;
    public static final int SESSION_END = 8;
    public static final int RATING_INVITE = 9;
    public static final int RATING = 10;

    public long eventId;
    public long shopId;
    public long conversationId;
    public long buyerId;
    public long agentId;
    public long tsMs;
    public int type;
    public int rating;
    public int flags;

    public ChatEvent() {}
}
