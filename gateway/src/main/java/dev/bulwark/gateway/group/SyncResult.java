package dev.bulwark.gateway.group;

import org.apache.kafka.common.protocol.Errors;

/** The outcome of a SyncGroup: the member's assignment from the leader. */
public record SyncResult(Errors error, String protocolType, String protocolName, byte[] assignment) {

    static SyncResult error(Errors error) {
        return new SyncResult(error, null, null, new byte[0]);
    }
}
