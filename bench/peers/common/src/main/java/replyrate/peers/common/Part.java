package replyrate.peers.common;

/**
 * Additive counts for one (shop, day), from one conversation or one buyer on their way to the
 * shop's record. The buyer-level metric (pdd_buyer_3min) is not additive over conversations:
 * a conversation's part carries its buyer and whether all its graded messages were in time
 * ({@code buyerSeen}, {@code buyerOk}), and the buyer stage turns them into buyerNum/buyerDen.
 */
public class Part {
    public long shopId;
    public long epochDay;
    public long buyerId;

    public long msgNum;     /* douyin_msg_3min */
    public long msgDen;
    public long sessNum;    /* douyin_session_3min */
    public long sessDen;
    public boolean buyerSeen;
    public boolean buyerOk;
    public long buyerNum;   /* pdd_buyer_3min */
    public long buyerDen;
    public long rtNum;      /* tmall_response_time */
    public long rtDen;
    public long rtUnanswered;
    public long[] rtBuckets = new long[8];

    public Part() {}

    public void add(Part o) {
        msgNum += o.msgNum;
        msgDen += o.msgDen;
        sessNum += o.sessNum;
        sessDen += o.sessDen;
        buyerNum += o.buyerNum;
        buyerDen += o.buyerDen;
        rtNum += o.rtNum;
        rtDen += o.rtDen;
        rtUnanswered += o.rtUnanswered;
        for (int i = 0; i < 8; i++) {
            rtBuckets[i] += o.rtBuckets[i];
        }
    }
}
