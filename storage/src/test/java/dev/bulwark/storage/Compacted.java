package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.Record;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** What a compacted log must hold, as a model the compaction tests compare the log with. */
final class Compacted {

    private Compacted() {
    }

    /** A record as the tests see it: where it is, its key, its value (null for a tombstone) and its timestamp. */
    record Entry(long offset, String key, String value, long timestamp) {

        boolean tombstone() {
            return value == null;
        }

        @Override
        public String toString() {
            return offset + ":" + key + "=" + (value == null ? "<tombstone>" : value);
        }
    }

    /** Every record a consumer reads from the log start offset to the high watermark. */
    static List<Entry> read(PartitionLog log) {
        List<Entry> entries = new ArrayList<>();
        for (Record record : Batches.readAllRecords(log)) {
            entries.add(new Entry(record.offset(), Batches.key(record), Batches.value(record), record.timestamp()));
        }
        return entries;
    }

    /**
     * Kafka's compaction of {@code appended} up to {@code end}: below it, each key keeps only its record with the
     * highest offset, a tombstone only while {@code tombstoneKept} says so; from {@code end} on, everything stays.
     */
    static List<Entry> compacted(List<Entry> appended, long end, Predicate<Entry> tombstoneKept) {
        Map<String, Long> latest = new HashMap<>();
        for (Entry e : appended) {
            if (e.offset() < end) {
                latest.put(e.key(), e.offset());
            }
        }
        List<Entry> kept = new ArrayList<>();
        for (Entry e : appended) {
            boolean survives = e.offset() >= end
                    || (latest.get(e.key()) == e.offset() && (!e.tombstone() || tombstoneKept.test(e)));
            if (survives) {
                kept.add(e);
            }
        }
        return kept;
    }

    /** Appends one record per batch and returns what the log holds of it. */
    static Entry append(PartitionLog log, long timestamp, String key, String value) {
        AppendResult result = Stores.appendAcked(log, Batches.entry(timestamp, key, value));
        return new Entry(result.firstOffset(), key, value, timestamp);
    }
}
