package dev.bulwark.storage;

import org.apache.kafka.common.Uuid;

/** A partition as storage knows it: the topic's opaque id and the partition number. */
public record PartitionId(Uuid topicId, int partition) {

    @Override
    public String toString() {
        return topicId + "-" + partition;
    }
}
