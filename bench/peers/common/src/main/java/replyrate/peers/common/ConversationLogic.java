package replyrate.peers.common;

import java.util.function.Consumer;

/**
 * One conversation's replay (docs/metrics.md, "Conversations"), shared by the JVM contenders:
 * Flink's ConversationFunction and Kafka Streams' ConversationProcessor hold the state and
 * the timers their own way and call these rules, so both compute the same metrics. Events come
 * in (ts_ms, event_id) order; rounds close on a reply, a SESSION_END, or the timer at their
 * day's end + H; a conversation is over at max(last ts + conversation_ttl, its day's end + H).
 */
public final class ConversationLogic {
    public static final long T_MS = 180_000L;
    public static final long H_MS = 3_600_000L;
    public static final long TTL_MS = 6 * 3_600_000L;
    public static final long WINDOW_FROM = 8 * 3_600_000L;
    public static final long WINDOW_TO = 23 * 3_600_000L;
    public static final int EXCLUDE_TMALL = 3; /* internal | spam */

    /** Registers an event-time timer at t for a conversation. */
    public interface Timers {
        void register(long t, long conversationId);
    }

    private ConversationLogic() {}

    public static long expiry(Conv c, Days days) {
        return Math.max(c.maxTs + TTL_MS, days.endOf(days.epochDay(c.maxTs)) + H_MS);
    }

    public static void apply(Conv c, ChatEvent e, Days days, Timers ctx, long id) {
        if (c.maxTs == Long.MIN_VALUE) {
            c.shopId = e.shopId;
        }
        if (e.tsMs > c.maxTs) {
            c.maxTs = e.tsMs;
        }
        if (c.cleanupAt == Long.MIN_VALUE) {
            c.cleanupAt = expiry(c, days) + 1;
            ctx.register(c.cleanupAt, id);
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
                buyerMessage(c, e, days, ctx, id);
                break;
            default:
                break;
        }
    }

    private static void buyerMessage(Conv c, ChatEvent e, Days days, Timers ctx, long id) {
        if (c.buyerId == 0) {
            c.buyerId = e.buyerId;
        }
        long day = days.epochDay(e.tsMs);
        long tod = days.timeOfDay(e.tsMs);
        if (c.manual && tod >= WINDOW_FROM && tod < WINDOW_TO) {
            Part p = day(c, day, days, ctx, id);
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
            day(c, day, days, ctx, id);
            if (c.roundCount == c.roundStart.length) {
                c.roundStart = java.util.Arrays.copyOf(c.roundStart, c.roundCount * 2);
                c.roundDay = java.util.Arrays.copyOf(c.roundDay, c.roundCount * 2);
            }
            c.roundStart[c.roundCount] = e.tsMs; /* a new round, or one split off by midnight */
            c.roundDay[c.roundCount] = day;
            c.roundCount++;
        }
    }

    private static void manualReply(Conv c, long ts) {
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

    private static void effectiveReply(Conv c, long ts) {
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

    private static void sessionEnd(Conv c) {
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
    /**
     * At a timer t: finishes every day of c whose end + H is reached (every reply that could
     * count for it is applied), hands each to done, and keeps the others.
     */
    public static void closeDays(Conv c, Days days, long t, Consumer<Part> done) {
        int k = 0;
        for (int i = 0; i < c.dayCount; i++) {
            Part p = c.days[i];
            if (days.endOf(p.epochDay) + H_MS <= t) {
                finishDay(c, p);
                done.accept(p);
            } else {
                c.days[k++] = p;
            }
        }
        for (int i = k; i < c.dayCount; i++) {
            c.days[i] = null;
        }
        c.dayCount = k;
    }

    private static void finishDay(Conv c, Part p) {
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

    public static int bucket(long wait) {
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
    private static Part day(Conv c, long day, Days days, Timers ctx, long id) {
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
        ctx.register(days.endOf(day) + H_MS, id);
        return p;
    }
}
