package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;

import java.util.concurrent.CompletionStage;

/** Heartbeat: keeps a member's session; REBALANCE_IN_PROGRESS tells it to rejoin. */
public final class HeartbeatHandler implements ApiHandler {

    private final GroupCoordinator coordinator;

    public HeartbeatHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        HeartbeatRequestData data = request.data();
        return Reply.completed(new HeartbeatResponseData().setErrorCode(coordinator.heartbeat(
                new GroupKey(request.tenantId(), data.groupId()),
                data.generationId(), data.memberId(), data.groupInstanceId()).code()));
    }
}
