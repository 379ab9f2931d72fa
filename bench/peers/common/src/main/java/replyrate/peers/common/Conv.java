package replyrate.peers.common;

/**
 * The state of one conversation between events: its phase, its buyer, the buyer messages
 * still waiting for a manual reply, the effective-reply rounds still open, and the counts of
 * each local day it is active on until that day is final. Only primitives, arrays and POJOs:
 * Flink's POJO serializer handles it (no Kryo), and Kafka Streams' SlotSerde writes it.
 */
public class Conv {
    public boolean manual;
    public long shopId;
    public long buyerId;
    public long maxTs = Long.MIN_VALUE;
    public long cleanupAt = Long.MIN_VALUE; /* the lifetime timer currently registered */

    /* douyin scope (manual, 08:00-23:00): messages waiting for a manual reply, in time order */
    public long[] pendingTs = new long[4];
    public long[] pendingDay = new long[4];
    public int pendingCount;

    /* tmall scope (effective, whole day, internal/spam excluded): open rounds, at most one a day */
    public long[] roundStart = new long[2];
    public long[] roundDay = new long[2];
    public int roundCount;

    /* per local day, until it is final: counts, and for the session and buyer metrics
     * whether a graded message was seen (buyerSeen) and all were in time (buyerOk) */
    public Part[] days = new Part[2];
    public int dayCount;

    public Conv() {}
}
