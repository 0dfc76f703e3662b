package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;

import java.util.concurrent.CompletionStage;

/** Heartbeat: keeps a member's session; REBALANCE_IN_PROGRESS tells it to rejoin. Needs READ on the group. */
public final class HeartbeatHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final AccessControl access;

    public HeartbeatHandler(GroupCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        HeartbeatRequestData data = request.data();
        access.requireGroup(request, AclOperation.READ, data.groupId());
        return Reply.completed(new HeartbeatResponseData().setErrorCode(coordinator.heartbeat(
                new GroupKey(request.tenantId(), data.groupId()),
                data.generationId(), data.memberId(), data.groupInstanceId()).code()));
    }
}
