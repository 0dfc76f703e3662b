package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * SyncGroup: the leader hands in the assignment; every member gets its share once it has. Needs READ on the group.
 */
public final class SyncGroupHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final AccessControl access;

    public SyncGroupHandler(GroupCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        SyncGroupRequestData data = request.data();
        access.requireGroup(request, AclOperation.READ, data.groupId());
        short version = request.version();
        Map<String, byte[]> assignments = new HashMap<>();
        data.assignments().forEach(a -> assignments.put(a.memberId(), a.assignment()));
        return coordinator.sync(new GroupKey(request.tenantId(), data.groupId()), data.generationId(), data.memberId(), data.groupInstanceId(),
                data.protocolType(), data.protocolName(), assignments).thenApply(result -> {
                    SyncGroupResponseData response = new SyncGroupResponseData().setErrorCode(result.error().code())
                            .setAssignment(result.assignment());
                    if (version >= 5) {
                        response.setProtocolType(result.protocolType()).setProtocolName(result.protocolName());
                    }
                    return Reply.of(response);
                });
    }
}
