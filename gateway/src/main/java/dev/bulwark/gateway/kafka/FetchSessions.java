package dev.bulwark.gateway.kafka;

import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.requests.FetchMetadata;

import java.time.Clock;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Incremental fetch sessions (KIP-227): the broker remembers a consumer's partitions and fetch positions, so each
 * request names only what changed and each response carries only partitions with news. A bounded cache: when full,
 * the session idle longest (and at least {@link #EVICTABLE_AFTER_MS}) makes room, else no session is created and
 * the client keeps sending full requests.
 */
public final class FetchSessions {

    static final long EVICTABLE_AFTER_MS = 120_000;

    /** A partition's state in a session: the client's position and what it was last told. */
    static final class Entry {
        long fetchOffset;
        int maxBytes;
        int currentLeaderEpoch;
        long sentHighWatermark = -1;
        long sentLastStableOffset = -1;
        long sentLogStartOffset = -1;

        Entry(long fetchOffset, int maxBytes, int currentLeaderEpoch) {
            this.fetchOffset = fetchOffset;
            this.maxBytes = maxBytes;
            this.currentLeaderEpoch = currentLeaderEpoch;
        }

        /** Whether a response with these values tells the client something new; remembers them. */
        boolean changedBy(long highWatermark, long lastStableOffset, long logStartOffset) {
            boolean changed = highWatermark != sentHighWatermark || lastStableOffset != sentLastStableOffset
                    || logStartOffset != sentLogStartOffset;
            sentHighWatermark = highWatermark;
            sentLastStableOffset = lastStableOffset;
            sentLogStartOffset = logStartOffset;
            return changed;
        }
    }

    /** One session: its partitions in fetch order, and the tenant whose clients alone may use it. */
    static final class Session {
        final int id;
        final String tenantId;
        int epoch = FetchMetadata.nextEpoch(FetchMetadata.INITIAL_EPOCH);
        long lastUsedMs;
        final LinkedHashMap<TopicIdPartition, Entry> partitions = new LinkedHashMap<>();

        Session(int id, String tenantId, long now) {
            this.id = id;
            this.tenantId = tenantId;
            this.lastUsedMs = now;
        }

        /** Moves a partition that returned records to the end, so the others are read first next time. */
        void rotateToEnd(TopicIdPartition partition) {
            Entry entry = partitions.remove(partition);
            if (entry != null) {
                partitions.put(partition, entry);
            }
        }
    }

    private final int maxSessions;
    private final Clock clock;
    private final Map<Integer, Session> sessions = new HashMap<>();

    public FetchSessions(int maxSessions, Clock clock) {
        this.maxSessions = maxSessions;
        this.clock = clock;
    }

    /** Creates a session for the partitions of a full fetch; null when the cache has no room. */
    synchronized Session create(String tenantId, LinkedHashMap<TopicIdPartition, Entry> partitions) {
        long now = clock.millis();
        if (sessions.size() >= maxSessions && !evictOne(now)) {
            return null;
        }
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        } while (sessions.containsKey(id));
        Session session = new Session(id, tenantId, now);
        session.partitions.putAll(partitions);
        sessions.put(id, session);
        return session;
    }

    private boolean evictOne(long now) {
        Session oldest = null;
        for (Session s : sessions.values()) {
            if (now - s.lastUsedMs >= EVICTABLE_AFTER_MS && (oldest == null || s.lastUsedMs < oldest.lastUsedMs)) {
                oldest = s;
            }
        }
        if (oldest == null) {
            return false;
        }
        sessions.remove(oldest.id);
        return true;
    }

    /** A session of this tenant; another tenant's session id is as unknown as one never issued. */
    synchronized Session get(String tenantId, int id) {
        Session session = sessions.get(id);
        if (session == null || !session.tenantId.equals(tenantId)) {
            return null;
        }
        session.lastUsedMs = clock.millis();
        return session;
    }

    synchronized void remove(String tenantId, int id) {
        Session session = sessions.get(id);
        if (session != null && session.tenantId.equals(tenantId)) {
            sessions.remove(id);
        }
    }

    /** Drops every partition of a deleted topic from every session. */
    synchronized void forgetTopic(org.apache.kafka.common.Uuid topicId) {
        for (Session session : sessions.values()) {
            for (Iterator<TopicIdPartition> it = session.partitions.keySet().iterator(); it.hasNext(); ) {
                if (it.next().topicId().equals(topicId)) {
                    it.remove();
                }
            }
        }
    }

    synchronized int size() {
        return sessions.size();
    }
}
