package replyrate.peers.flink;

import replyrate.peers.common.Part;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by (shop, day, buyer): a buyer counts once for pdd_buyer_3min across all their
 * conversations with the shop that day, in time only if every graded message of every one
 * was. The conversations' parts all carry the timestamp of the day's end + H; the timer at
 * that instant fires once every one of them is in.
 */
public class BuyerFunction extends KeyedProcessFunction<Tuple3<Long, Long, Long>, Part, Part> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<Part> acc;

    @Override
    public void open(Configuration parameters) {
        acc = getRuntimeContext().getState(new ValueStateDescriptor<>("buyer", Part.class));
    }

    @Override
    public void processElement(Part p, Context ctx, Collector<Part> out) throws Exception {
        Part a = acc.value();
        if (a == null) {
            a = new Part();
            a.shopId = p.shopId;
            a.epochDay = p.epochDay;
            a.buyerId = p.buyerId;
            a.buyerOk = true;
            ctx.timerService().registerEventTimeTimer(ctx.timestamp());
        }
        a.add(p);
        if (p.buyerSeen) {
            a.buyerSeen = true;
            a.buyerOk &= p.buyerOk;
        }
        acc.update(a);
    }

    @Override
    public void onTimer(long t, OnTimerContext ctx, Collector<Part> out) throws Exception {
        Part a = acc.value();
        if (a.buyerSeen) {
            a.buyerDen = 1;
            a.buyerNum = a.buyerOk ? 1 : 0;
        }
        out.collect(a);
        acc.clear();
    }
}
