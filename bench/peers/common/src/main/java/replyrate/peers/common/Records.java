package replyrate.peers.common;

import java.util.ArrayList;
import java.util.List;

/** A shop's day as the comparison form's lines (bench/peers/README.md, records.jsonl). */
public final class Records {
    private Records() {}

    /** The lines of a shop's summed day: one per metric with something to count. */
    public static List<String> lines(Part a) {
        List<String> out = new ArrayList<>(4);
        int day = Days.yyyymmdd(a.epochDay);
        line(out, a.shopId, day, "douyin_msg_3min", a.msgNum, a.msgDen, -1, null);
        line(out, a.shopId, day, "douyin_session_3min", a.sessNum, a.sessDen, -1, null);
        line(out, a.shopId, day, "pdd_buyer_3min", a.buyerNum, a.buyerDen, -1, null);
        line(out, a.shopId, day, "tmall_response_time", a.rtNum, a.rtDen, a.rtUnanswered, a.rtBuckets);
        return out;
    }

    private static void line(List<String> out, long shop, int day, String metric, long num, long den,
            long unanswered, long[] buckets) {
        if (den == 0 && unanswered <= 0) {
            return;
        }
        StringBuilder b = new StringBuilder(160);
        b.append("{\"shop_id\":").append(shop).append(",\"day\":").append(day)
                .append(",\"metric\":\"").append(metric).append("\",\"num\":").append(num)
                .append(",\"den\":").append(den);
        if (buckets == null) {
            b.append(",\"unanswered\":null,\"buckets\":null}");
        } else {
            b.append(",\"unanswered\":").append(unanswered).append(",\"buckets\":[");
            for (int i = 0; i < buckets.length; i++) {
                b.append(i == 0 ? "" : ",").append(buckets[i]);
            }
            b.append("]}");
        }
        out.add(b.toString());
    }
}
