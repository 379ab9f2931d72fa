package replyrate.peers.common;

import java.io.Serializable;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.zone.ZoneRules;

/**
 * Local days of the job's time zone: the day of an instant, its time of day, the instant a
 * day ends (the first instant of the next day). The last day looked up is cached, since a
 * stream moves through few days.
 */
public final class Days implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final long DAY_MS = 86_400_000L;

    private final ZoneId zone;
    private transient ZoneRules rules;
    private transient long cacheStart = Long.MAX_VALUE; /* [cacheStart, cacheEnd): one local day */
    private transient long cacheEnd = Long.MIN_VALUE;
    private transient long cacheEpochDay;

    public Days(String zone) {
        this.zone = ZoneId.of(zone);
    }

    /** The local epoch day (days since 1970-01-01 in the zone) of an instant. */
    public long epochDay(long tsMs) {
        if (tsMs < cacheStart || tsMs >= cacheEnd) {
            if (rules == null) {
                rules = zone.getRules();
            }
            long off = rules.getOffset(Instant.ofEpochMilli(tsMs)).getTotalSeconds() * 1000L;
            long d = Math.floorDiv(tsMs + off, DAY_MS);
            cacheEpochDay = d;
            cacheStart = startOf(d);
            cacheEnd = startOf(d + 1);
        }
        return cacheEpochDay;
    }

    /** Milliseconds since the local midnight that starts the instant's day. */
    public long timeOfDay(long tsMs) {
        epochDay(tsMs);
        return tsMs - cacheStart;
    }

    /** The first instant of local day d (midnight, or the first instant after a gap). */
    public long startOf(long epochDay) {
        return LocalDate.ofEpochDay(epochDay).atStartOfDay(zone).toInstant().toEpochMilli();
    }

    /** The end of local day d: the first instant of the next one. */
    public long endOf(long epochDay) {
        return startOf(epochDay + 1);
    }

    /** YYYYMMDD of a local epoch day, the form records carry. */
    public static int yyyymmdd(long epochDay) {
        LocalDate d = LocalDate.ofEpochDay(epochDay);
        return d.getYear() * 10000 + d.getMonthValue() * 100 + d.getDayOfMonth();
    }
}
