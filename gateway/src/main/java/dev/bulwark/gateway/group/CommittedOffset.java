package dev.bulwark.gateway.group;

/** A committed position: the next offset to read, the leader epoch of the last record read, client metadata. */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestamp) {
}
