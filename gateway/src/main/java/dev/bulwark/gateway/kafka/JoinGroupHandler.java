package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.group.JoinResult;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * JoinGroup, every version: from v4 a new member first gets MEMBER_ID_REQUIRED with its id (KIP-394). Needs READ on
 * the group.
 */
public final class JoinGroupHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final AccessControl access;

    public JoinGroupHandler(GroupCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        JoinGroupRequestData data = request.data();
        access.requireGroup(request, AclOperation.READ, data.groupId());
        short version = request.version();
        LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
        data.protocols().forEach(p -> protocols.putIfAbsent(p.name(), p.metadata()));
        int rebalanceTimeout = data.rebalanceTimeoutMs() < 0 ? data.sessionTimeoutMs() : data.rebalanceTimeoutMs();
        GroupCoordinator.JoinRequest join = new GroupCoordinator.JoinRequest(
                new GroupKey(request.tenantId(), data.groupId()), data.memberId(),
                data.groupInstanceId(), request.context().clientId(),
                "/" + request.context().clientAddress().getHostAddress(), data.sessionTimeoutMs(), rebalanceTimeout,
                data.protocolType(), protocols, version >= 4, version >= 9);
        return coordinator.join(join).thenApply(result -> Reply.of(response(result, version)));
    }

    private static JoinGroupResponseData response(JoinResult result, short version) {
        List<JoinGroupResponseMember> members = new ArrayList<>(result.members().size());
        for (JoinResult.JoinedMember m : result.members()) {
            members.add(new JoinGroupResponseMember().setMemberId(m.memberId()).setGroupInstanceId(m.groupInstanceId())
                    .setMetadata(m.metadata()));
        }
        JoinGroupResponseData response = new JoinGroupResponseData()
                .setErrorCode(result.error().code())
                .setGenerationId(result.generationId())
                .setProtocolName(result.protocolName() == null && version < 7 ? "" : result.protocolName())
                .setLeader(result.leaderId() == null ? "" : result.leaderId())
                .setMemberId(result.memberId() == null ? "" : result.memberId())
                .setMembers(members);
        if (version >= 7) {
            response.setProtocolType(result.protocolType());
        }
        if (version >= 9) {
            response.setSkipAssignment(result.skipAssignment());
        }
        return response;
    }
}
