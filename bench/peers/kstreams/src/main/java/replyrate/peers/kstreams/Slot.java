package replyrate.peers.kstreams;

import replyrate.peers.common.ChatEvent;
import replyrate.peers.common.Conv;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Everything the "conversations" store keeps for one conversation id: what the Flink
 * contender keeps in five keyed states. conv is null until the first event is applied;
 * shopOf / buyerOf (0 = none yet) are of the first event / buyer message accepted, in arrival
 * order; buffer holds accepted events not yet applied, by timestamp; ids the event ids seen.
 */
final class Slot {
    Conv conv;
    long shopOf;
    long buyerOf;
    final TreeMap<Long, List<ChatEvent>> buffer = new TreeMap<>();
    long[] ids = new long[8];
    int idCount;

    boolean seen(long id) {
        for (int i = 0; i < idCount; i++) {
            if (ids[i] == id) {
                return true;
            }
        }
        return false;
    }

    void addId(long id) {
        if (idCount == ids.length) {
            ids = java.util.Arrays.copyOf(ids, idCount * 2);
        }
        ids[idCount++] = id;
    }

    static List<ChatEvent> newBucket() {
        return new ArrayList<>(1);
    }
}
