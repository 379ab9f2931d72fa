package replyrate.peers.flink;

import replyrate.peers.common.ChatEvent;
import replyrate.peers.common.Days;
import replyrate.peers.common.Part;
import replyrate.peers.common.Conv;
import replyrate.peers.common.ConversationLogic;

import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * One conversation's replay (docs/metrics.md, "Conversations"), keyed by conversation id.
 *
 * Events wait in keyed state, bucketed by timestamp, with an event-time timer at that
 * timestamp; when the watermark passes it, the bucket is applied in (ts_ms, event_id) order,
 * so the result does not depend on arrival order within the lateness. Rounds close on a reply,
 * a SESSION_END, or the timer at their day's end + H (the horizon: no reply can count later);
 * that timer also emits the conversation's counts for the day. A lifetime timer at
 * max(last ts + conversation_ttl, end of its day + H) forgets the conversation and its ids.
 */
public class ConversationFunction extends KeyedProcessFunction<Long, ChatEvent, Part> {
    private static final long serialVersionUID = 1L;

    private final String zone;
    private transient Days days;
    private transient ValueState<Conv> convState;
    private transient MapState<Long, List<ChatEvent>> buffer;
    private transient MapState<Long, Boolean> seenIds;
    private transient ValueState<Long> shopOf;   /* of the first event applied, in arrival order */
    private transient ValueState<Long> buyerOf;  /* of the first buyer message applied, in arrival order */
    private transient LongCounter invalid;
    private transient LongCounter late;
    private transient LongCounter duplicate;
    private transient LongCounter applied;

    public ConversationFunction(String zone) {
        this.zone = zone;
    }

    @Override
    public void open(Configuration parameters) {
        days = new Days(zone);
        convState = getRuntimeContext().getState(new ValueStateDescriptor<>("conv", Conv.class));
        buffer = getRuntimeContext().getMapState(new MapStateDescriptor<>("buffer", Types.LONG,
                Types.LIST(TypeInformation.of(ChatEvent.class))));
        seenIds = getRuntimeContext().getMapState(new MapStateDescriptor<>("ids", Types.LONG, Types.BOOLEAN));
        shopOf = getRuntimeContext().getState(new ValueStateDescriptor<>("shop", Types.LONG));
        buyerOf = getRuntimeContext().getState(new ValueStateDescriptor<>("buyer", Types.LONG));
        invalid = getRuntimeContext().getLongCounter("invalid");
        late = getRuntimeContext().getLongCounter("late");
        duplicate = getRuntimeContext().getLongCounter("duplicate");
        applied = getRuntimeContext().getLongCounter("applied");
    }

    @Override
    public void processElement(ChatEvent e, Context ctx, Collector<Part> out) throws Exception {
        /* the verdicts in replyrate's order: invalid, late, duplicate, applied */
        Long shop = shopOf.value();
        Long buyer = e.type == ChatEvent.BUYER_MESSAGE ? buyerOf.value() : null;
        if ((shop != null && shop != e.shopId) || (buyer != null && buyer != e.buyerId)) {
            invalid.add(1); /* shop_mismatch, buyer_mismatch */
            return;
        }
        if (e.tsMs <= ctx.timerService().currentWatermark()) {
            late.add(1); /* behind the watermark: its timestamp's bucket may already be applied */
            return;
        }
        if (seenIds.contains(e.eventId)) {
            duplicate.add(1);
            return;
        }
        seenIds.put(e.eventId, Boolean.TRUE);
        if (shop == null) {
            shopOf.update(e.shopId);
        }
        if (e.type == ChatEvent.BUYER_MESSAGE && buyer == null) {
            buyerOf.update(e.buyerId);
        }
        List<ChatEvent> bucket = buffer.get(e.tsMs);
        if (bucket == null) {
            bucket = new ArrayList<>(1);
            ctx.timerService().registerEventTimeTimer(e.tsMs);
        }
        bucket.add(e);
        buffer.put(e.tsMs, bucket);
    }

    @Override
    public void onTimer(long t, OnTimerContext ctx, Collector<Part> out) throws Exception {
        Conv c = convState.value();
        List<ChatEvent> bucket = buffer.get(t);
        if (bucket != null) {
            buffer.remove(t);
            if (c == null) {
                c = new Conv();
            }
            bucket.sort((a, b) -> Long.compare(a.eventId, b.eventId));
            for (ChatEvent e : bucket) {
                ConversationLogic.apply(c, e, days, (time, conv) -> ctx.timerService().registerEventTimeTimer(time), t);
                applied.add(1);
            }
        }
        if (c == null) {
            return;
        }
        /* days whose end + H is reached: every reply that could count for them is applied */
        ConversationLogic.closeDays(c, days, t, out::collect);
        if (t == c.cleanupAt) {
            long expiry = ConversationLogic.expiry(c, days);
            if (expiry + 1 > t) {
                c.cleanupAt = expiry + 1;
                ctx.timerService().registerEventTimeTimer(c.cleanupAt);
            } else if (c.dayCount == 0 && buffer.isEmpty()) {
                convState.clear(); /* over: a later event under this id starts afresh */
                seenIds.clear();
                shopOf.clear();
                buyerOf.clear();
                return;
            }
        }
        convState.update(c);
    }
}
