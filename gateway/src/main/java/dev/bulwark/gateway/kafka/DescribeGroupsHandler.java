package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.group.GroupState;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.protocol.Errors;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * DescribeGroups: state, protocol, members; a stable group's members also show their subscription and assignment.
 * An unknown group is "Dead" (GROUP_ID_NOT_FOUND from v6, as KIP-1043 has it). Needs DESCRIBE on each group.
 */
public final class DescribeGroupsHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final AccessControl access;

    public DescribeGroupsHandler(GroupCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        DescribeGroupsRequestData data = request.data();
        short version = request.version();
        DescribeGroupsResponseData response = new DescribeGroupsResponseData();
        for (String groupId : data.groups()) {
            DescribedGroup described = new DescribedGroup().setGroupId(groupId);
            if (!access.group(request, AclOperation.DESCRIBE, groupId)) {
                response.groups().add(described.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())
                        .setGroupState("").setProtocolType("").setProtocolData(""));
                continue;
            }
            Optional<GroupCoordinator.GroupDescription> group = coordinator.describe(new GroupKey(request.tenantId(), groupId));
            if (group.isEmpty()) {
                described.setGroupState(GroupState.DEAD.kafkaName()).setProtocolType("").setProtocolData("");
                if (version >= 6) {
                    described.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code())
                            .setErrorMessage("Group " + groupId + " not found.");
                }
            } else {
                GroupCoordinator.GroupDescription g = group.get();
                described.setGroupState(g.state().kafkaName()).setProtocolType(g.protocolType())
                        .setProtocolData(g.protocolName());
                for (GroupCoordinator.MemberDescription m : g.members()) {
                    described.members().add(new DescribedGroupMember().setMemberId(m.memberId())
                            .setGroupInstanceId(m.groupInstanceId()).setClientId(m.clientId())
                            .setClientHost(m.clientHost()).setMemberMetadata(m.metadata())
                            .setMemberAssignment(m.assignment()));
                }
                if (version >= 3 && data.includeAuthorizedOperations()) {
                    described.setAuthorizedOperations(access.groupOperations(request, groupId));
                }
            }
            response.groups().add(described);
        }
        return Reply.completed(response);
    }
}
