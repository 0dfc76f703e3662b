package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * DeleteGroups: empty groups only (NON_EMPTY_GROUP otherwise); their offsets go with them. Needs DELETE on each group.
 */
public final class DeleteGroupsHandler implements ApiHandler {

    private final GroupCoordinator coordinator;
    private final AccessControl access;

    public DeleteGroupsHandler(GroupCoordinator coordinator, AccessControl access) {
        this.coordinator = coordinator;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        DeleteGroupsRequestData data = request.data();
        DeleteGroupsResponseData response = new DeleteGroupsResponseData();
        List<CompletableFuture<Void>> deletions = new ArrayList<>();
        for (String groupId : data.groupsNames()) {
            DeletableGroupResult result = new DeletableGroupResult().setGroupId(groupId);
            response.results().add(result);
            if (!access.group(request, AclOperation.DELETE, groupId)) {
                result.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code());
                if (request.version() >= 3) {
                    result.setErrorMessage(Errors.GROUP_AUTHORIZATION_FAILED.message());
                }
                continue;
            }
            deletions.add(coordinator.delete(new GroupKey(request.tenantId(), groupId)).thenAccept(error -> {
                result.setErrorCode(error.code());
                if (error != Errors.NONE && request.version() >= 3) {
                    result.setErrorMessage(error.message());
                }
            }));
        }
        return CompletableFuture.allOf(deletions.toArray(CompletableFuture[]::new)).thenApply(v -> Reply.of(response));
    }
}
