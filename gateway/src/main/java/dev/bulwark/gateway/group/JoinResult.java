package dev.bulwark.gateway.group;

import org.apache.kafka.common.protocol.Errors;

import java.util.List;

/** The outcome of a JoinGroup: the generation, the chosen assignor, and for the leader every member's metadata. */
public record JoinResult(Errors error, String memberId, int generationId, String protocolType, String protocolName,
                         String leaderId, boolean skipAssignment, List<JoinedMember> members) {

    public record JoinedMember(String memberId, String groupInstanceId, byte[] metadata) {
    }

    static JoinResult error(Errors error, String memberId) {
        return new JoinResult(error, memberId, -1, null, null, "", false, List.of());
    }
}
