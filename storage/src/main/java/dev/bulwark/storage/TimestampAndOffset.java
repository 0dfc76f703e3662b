package dev.bulwark.storage;

/** A record's timestamp and offset, the answer to a ListOffsets lookup by time. */
public record TimestampAndOffset(long timestamp, long offset) {
}
