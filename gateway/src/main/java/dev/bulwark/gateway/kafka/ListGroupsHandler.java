package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;

import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * ListGroups, with the state filter (v4+) and the type filter (v5+; every group here is "classic"). DESCRIBE on the
 * cluster lists every group of the tenant; otherwise only the groups the sender may DESCRIBE are listed.
 */
public final class ListGroupsHandler implements ApiHandler {

    static final String CLASSIC = "classic";

    private final GroupCoordinator coordinator;
    private final AccessControl access;

    public ListGroupsHandler(GroupCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        ListGroupsRequestData data = request.data();
        Set<String> states = data.statesFilter().stream().map(s -> s.toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet());
        Set<String> types = data.typesFilter().stream().map(s -> s.toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet());
        ListGroupsResponseData response = new ListGroupsResponseData();
        if (!types.isEmpty() && !types.contains(CLASSIC)) {
            return Reply.completed(response);
        }
        boolean all = access.cluster(request, AclOperation.DESCRIBE);
        for (GroupCoordinator.GroupOverview group : coordinator.list(request.tenantId())) {
            if ((states.isEmpty() || states.contains(group.state().kafkaName().toLowerCase(Locale.ROOT)))
                    && (all || access.group(request, AclOperation.DESCRIBE, group.groupId()))) {
                response.groups().add(new ListedGroup().setGroupId(group.groupId())
                        .setProtocolType(group.protocolType()).setGroupState(group.state().kafkaName())
                        .setGroupType(CLASSIC));
            }
        }
        return Reply.completed(response);
    }
}
