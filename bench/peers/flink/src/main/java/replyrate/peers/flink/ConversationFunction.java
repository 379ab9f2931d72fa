package replyrate.peers.flink;

import replyrate.peers.common.ChatEvent;
import replyrate.peers.common.Days;
import replyrate.peers.common.Part;
import replyrate.peers.common.Conv;

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

    static final long T_MS = 180_000L;
    static final long H_MS = 3_600_000L;
    static final long TTL_MS = 6 * 3_600_000L;
    static final long WINDOW_FROM = 8 * 3_600_000L;
    static final long WINDOW_TO = 23 * 3_600_000L;
    static final int EXCLUDE_TMALL = 3; /* internal | spam */

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
                apply(c, e, ctx);
                applied.add(1);
            }
        }
        if (c == null) {
            return;
        }
        /* days whose end + H is reached: every reply that could count for them is applied */
        int k = 0;
        for (int i = 0; i < c.dayCount; i++) {
            Part p = c.days[i];
            if (days.endOf(p.epochDay) + H_MS <= t) {
                finishDay(c, p);
                out.collect(p);
            } else {
                c.days[k++] = p;
            }
        }
        for (int i = k; i < c.dayCount; i++) {
            c.days[i] = null;
        }
        c.dayCount = k;
        if (t == c.cleanupAt) {
            long expiry = expiry(c);
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

    private long expiry(Conv c) {
        return Math.max(c.maxTs + TTL_MS, days.endOf(days.epochDay(c.maxTs)) + H_MS);
    }

    private void apply(Conv c, ChatEvent e, OnTimerContext ctx) {
        if (c.maxTs == Long.MIN_VALUE) {
            c.shopId = e.shopId;
        }
        if (e.tsMs > c.maxTs) {
            c.maxTs = e.tsMs;
        }
        if (c.cleanupAt == Long.MIN_VALUE) {
            c.cleanupAt = expiry(c) + 1;
            ctx.timerService().registerEventTimeTimer(c.cleanupAt);
        }
        switch (e.type) {
            case ChatEvent.TRANSFER_TO_MANUAL:
            case ChatEvent.AGENT_ASSIGNED:
                c.manual = true;
                break;
            case ChatEvent.AGENT_MESSAGE:
                c.manual = true;
                manualReply(c, e.tsMs);
                effectiveReply(c, e.tsMs);
                break;
            case ChatEvent.ROBOT_MESSAGE:
                effectiveReply(c, e.tsMs);
                break;
            case ChatEvent.SESSION_END:
                sessionEnd(c);
                break;
            case ChatEvent.BUYER_MESSAGE:
                buyerMessage(c, e, ctx);
                break;
            default:
                break;
        }
    }

    private void buyerMessage(Conv c, ChatEvent e, OnTimerContext ctx) {
        if (c.buyerId == 0) {
            c.buyerId = e.buyerId;
        }
        long day = days.epochDay(e.tsMs);
        long tod = days.timeOfDay(e.tsMs);
        if (c.manual && tod >= WINDOW_FROM && tod < WINDOW_TO) {
            Part p = day(c, day, ctx);
            p.msgDen++;
            p.buyerSeen = true;
            if (c.pendingCount == c.pendingTs.length) {
                c.pendingTs = java.util.Arrays.copyOf(c.pendingTs, c.pendingCount * 2);
                c.pendingDay = java.util.Arrays.copyOf(c.pendingDay, c.pendingCount * 2);
            }
            c.pendingTs[c.pendingCount] = e.tsMs;
            c.pendingDay[c.pendingCount] = day;
            c.pendingCount++;
        }
        if ((e.flags & EXCLUDE_TMALL) == 0) {
            for (int i = 0; i < c.roundCount; i++) {
                if (c.roundDay[i] == day) {
                    return; /* joins the open round of its day */
                }
            }
            day(c, day, ctx);
            if (c.roundCount == c.roundStart.length) {
                c.roundStart = java.util.Arrays.copyOf(c.roundStart, c.roundCount * 2);
                c.roundDay = java.util.Arrays.copyOf(c.roundDay, c.roundCount * 2);
            }
            c.roundStart[c.roundCount] = e.tsMs; /* a new round, or one split off by midnight */
            c.roundDay[c.roundCount] = day;
            c.roundCount++;
        }
    }

    private void manualReply(Conv c, long ts) {
        for (int i = 0; i < c.pendingCount; i++) {
            Part p = find(c, c.pendingDay[i]);
            if (ts - c.pendingTs[i] <= T_MS) {
                p.msgNum++;
            } else {
                p.buyerOk = false;
            }
        }
        c.pendingCount = 0;
    }

    private void effectiveReply(Conv c, long ts) {
        for (int i = 0; i < c.roundCount; i++) {
            Part p = find(c, c.roundDay[i]);
            long wait = ts - c.roundStart[i];
            if (wait <= H_MS) {
                p.rtNum += wait;
                p.rtDen++;
                p.rtBuckets[bucket(wait)]++;
            } else {
                p.rtUnanswered++;
            }
        }
        c.roundCount = 0;
    }

    private void sessionEnd(Conv c) {
        for (int i = 0; i < c.pendingCount; i++) {
            find(c, c.pendingDay[i]).buyerOk = false;
        }
        c.pendingCount = 0;
        for (int i = 0; i < c.roundCount; i++) {
            find(c, c.roundDay[i]).rtUnanswered++;
        }
        c.roundCount = 0;
    }

    /** The day is final: whatever still waits for it was never answered. */
    private void finishDay(Conv c, Part p) {
        int k = 0;
        for (int i = 0; i < c.pendingCount; i++) {
            if (c.pendingDay[i] == p.epochDay) {
                p.buyerOk = false;
            } else {
                c.pendingTs[k] = c.pendingTs[i];
                c.pendingDay[k++] = c.pendingDay[i];
            }
        }
        c.pendingCount = k;
        k = 0;
        for (int i = 0; i < c.roundCount; i++) {
            if (c.roundDay[i] == p.epochDay) {
                p.rtUnanswered++;
            } else {
                c.roundStart[k] = c.roundStart[i];
                c.roundDay[k++] = c.roundDay[i];
            }
        }
        c.roundCount = k;
        p.shopId = c.shopId;
        p.buyerId = c.buyerId;
        if (p.buyerSeen) {
            p.sessDen = 1;
            p.sessNum = p.buyerOk ? 1 : 0;
        }
    }

    static int bucket(long wait) {
        if (wait <= 15_000) return 0;
        if (wait <= 30_000) return 1;
        if (wait <= 60_000) return 2;
        if (wait <= 120_000) return 3;
        if (wait <= 180_000) return 4;
        if (wait <= 300_000) return 5;
        if (wait <= 600_000) return 6;
        return 7;
    }

    private static Part find(Conv c, long day) {
        for (int i = 0; i < c.dayCount; i++) {
            if (c.days[i].epochDay == day) {
                return c.days[i];
            }
        }
        throw new IllegalStateException("no open day " + day);
    }

    /** The counts of a day, opened with a timer at its end + H. */
    private Part day(Conv c, long day, OnTimerContext ctx) {
        for (int i = 0; i < c.dayCount; i++) {
            if (c.days[i].epochDay == day) {
                return c.days[i];
            }
        }
        Part p = new Part();
        p.epochDay = day;
        p.buyerOk = true;
        if (c.dayCount == c.days.length) {
            c.days = java.util.Arrays.copyOf(c.days, c.dayCount * 2);
        }
        c.days[c.dayCount++] = p;
        ctx.timerService().registerEventTimeTimer(days.endOf(day) + H_MS);
        return p;
    }
}
