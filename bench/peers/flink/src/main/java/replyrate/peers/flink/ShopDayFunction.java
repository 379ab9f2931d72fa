package replyrate.peers.flink;

import replyrate.peers.common.Part;
import replyrate.peers.common.Records;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by (shop, day): sums the buyers' parts and, when the watermark passes the day's end
 * + H, writes the day's final records, one JSON line per metric in the peers' common form
 * ({shop_id, day, metric, num, den, unanswered, buckets}). A metric with den and unanswered
 * both 0 is left out, as replyrate leaves it out of its shop_day record.
 */
public class ShopDayFunction extends KeyedProcessFunction<Tuple2<Long, Long>, Part, String> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<Part> acc;

    @Override
    public void open(Configuration parameters) {
        acc = getRuntimeContext().getState(new ValueStateDescriptor<>("shop_day", Part.class));
    }

    @Override
    public void processElement(Part p, Context ctx, Collector<String> out) throws Exception {
        Part a = acc.value();
        if (a == null) {
            a = new Part();
            a.shopId = p.shopId;
            a.epochDay = p.epochDay;
            ctx.timerService().registerEventTimeTimer(ctx.timestamp());
        }
        a.add(p);
        acc.update(a);
    }

    @Override
    public void onTimer(long t, OnTimerContext ctx, Collector<String> out) throws Exception {
        Part a = acc.value();
        acc.clear();
        for (String line : Records.lines(a)) {
            out.collect(line);
        }
    }
}
