package replyrate.peers.flink;

import replyrate.peers.common.ChatEvent;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * Bounded out-of-orderness, emitted with every event that raises the greatest timestamp
 * rather than every 200 ms of wall-clock time. replyrate's watermark is the greatest applied
 * timestamp minus the lateness, moved by each event; a periodic watermark replayed from a
 * file trails it by however much event time the source reads in 200 ms (tens of minutes of
 * a generated day), so events replyrate judges late would still be applied. With this one,
 * an event is late in Flink (ts <= greatest - lateness - 1) exactly when it is in replyrate
 * (ts < greatest - lateness).
 */
public class EveryEventWatermarks implements WatermarkGenerator<ChatEvent> {
    private final long lateness;
    private long max = Long.MIN_VALUE;

    public EveryEventWatermarks(long latenessMs) {
        this.lateness = latenessMs;
    }

    @Override
    public void onEvent(ChatEvent e, long ts, WatermarkOutput out) {
        if (ts > max) {
            max = ts;
            out.emitWatermark(new Watermark(max - lateness - 1));
        }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput out) {}
}
