package dev.bulwark.storage;

import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What compaction knows of transactions while it walks a partition's batches in offset order, as Kafka's cleaner
 * does: which data batches belong to aborted transactions (their records go, and their keys must not hide committed
 * records of the same key), and which markers no longer close any record (they may go once their delete horizon has
 * passed). Only the offsets below the last stable offset are compacted, so every transaction met is decided.
 *
 * <p>Built from the aborted transactions overlapping the compacted range
 * ({@link PartitionLog#collectAbortedTransactions}); a transactional batch of a producer is aborted when one of
 * them, begun at or before it, has not met its marker yet.
 */
final class CleanedTransactions {

    /** An aborted transaction whose records the walk is inside, and whether it met one of its batches. */
    private static final class OpenAborted {
        final AbortedTransaction transaction;
        boolean batchSeen;

        OpenAborted(AbortedTransaction transaction) {
            this.transaction = transaction;
        }
    }

    /**
     * What a marker means for compaction.
     *
     * @param closesNothing whether the walk met no record of its transaction (an empty or fully compacted one): the
     *                      marker may go after its delete horizon
     * @param indexEntry    for an ABORT marker that still closes records, its transaction index entry
     */
    record Marker(boolean closesNothing, Optional<AbortedTransaction> indexEntry) {
    }

    private static final Marker KEEP = new Marker(false, Optional.empty());
    private static final Marker CLOSES_NOTHING = new Marker(true, Optional.empty());

    private final ArrayDeque<AbortedTransaction> upcoming;
    private final Map<Long, OpenAborted> openAborted = new HashMap<>();
    private final Set<Long> openCommitted = new HashSet<>();

    CleanedTransactions(List<AbortedTransaction> aborted) {
        upcoming = new ArrayDeque<>(aborted.stream()
                .sorted(Comparator.comparingLong(AbortedTransaction::firstOffset)).toList());
    }

    /** @return whether the data batch belongs to an aborted transaction */
    boolean isAborted(RecordBatch batch) {
        enterAbortedUpTo(batch.lastOffset());
        if (!batch.isTransactional()) {
            return false;
        }
        OpenAborted aborted = openAborted.get(batch.producerId());
        if (aborted != null) {
            aborted.batchSeen = true;
            return true;
        }
        openCommitted.add(batch.producerId());
        return false;
    }

    /** Reads a control batch: an end-transaction marker closes its producer's transaction. */
    Marker marker(RecordBatch batch) {
        enterAbortedUpTo(batch.lastOffset());
        Iterator<Record> records = batch.iterator();
        if (!records.hasNext()) {
            return CLOSES_NOTHING; // emptied by an earlier compaction
        }
        ControlRecordType type = ControlRecordType.parse(records.next().key());
        if (type == ControlRecordType.ABORT) {
            OpenAborted aborted = openAborted.remove(batch.producerId());
            return aborted != null && aborted.batchSeen ? new Marker(false, Optional.of(aborted.transaction))
                    : CLOSES_NOTHING;
        }
        if (type == ControlRecordType.COMMIT) {
            return openCommitted.remove(batch.producerId()) ? KEEP : CLOSES_NOTHING;
        }
        return KEEP;
    }

    private void enterAbortedUpTo(long offset) {
        while (!upcoming.isEmpty() && upcoming.peekFirst().firstOffset() <= offset) {
            AbortedTransaction next = upcoming.pollFirst();
            openAborted.put(next.producerId(), new OpenAborted(next));
        }
    }
}
