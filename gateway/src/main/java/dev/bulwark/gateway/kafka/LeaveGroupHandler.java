package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * LeaveGroup: one member (v0-2) or a batch identified by member id and/or group.instance.id (v3+). Needs READ on the
 * group.
 */
public final class LeaveGroupHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final AccessControl access;

    public LeaveGroupHandler(GroupCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        LeaveGroupRequestData data = request.data();
        access.requireGroup(request, AclOperation.READ, data.groupId());
        if (request.version() < 3) {
            List<Errors> results = coordinator.leave(new GroupKey(request.tenantId(), data.groupId()),
                    List.of(new GroupCoordinator.MemberIdentity(data.memberId(), null)));
            return Reply.completed(new LeaveGroupResponseData().setErrorCode(results.get(0).code()));
        }
        List<GroupCoordinator.MemberIdentity> leaving = new ArrayList<>();
        data.members().forEach(m -> leaving.add(new GroupCoordinator.MemberIdentity(m.memberId(), m.groupInstanceId())));
        List<Errors> results = coordinator.leave(new GroupKey(request.tenantId(), data.groupId()), leaving);
        LeaveGroupResponseData response = new LeaveGroupResponseData();
        for (int i = 0; i < leaving.size(); i++) {
            response.members().add(new LeaveGroupResponseData.MemberResponse()
                    .setMemberId(leaving.get(i).memberId()).setGroupInstanceId(leaving.get(i).groupInstanceId())
                    .setErrorCode(results.get(i).code()));
        }
        return Reply.completed(response);
    }
}
