package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;

import java.util.concurrent.CompletionStage;

/**
 * FindCoordinator (single key, and batched keys from v4): this node coordinates every consumer group and every
 * transactional id. Share groups have no coordinator, which clients hear as COORDINATOR_NOT_AVAILABLE; an unknown key
 * type is INVALID_REQUEST. A group key needs DESCRIBE on the group, a transactional id DESCRIBE on it.
 */
public final class FindCoordinatorHandler implements ApiHandler {

    private final ClusterIdentity cluster;
    private final AccessControl access;

    public FindCoordinatorHandler(ClusterIdentity cluster, AccessControl access) {
        this.cluster = cluster;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        FindCoordinatorRequestData data = request.data();
        CoordinatorType type;
        try {
            type = CoordinatorType.forId(data.keyType());
        } catch (IllegalArgumentException e) {
            type = null;
        }
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        if (request.version() < 4) {
            Coordinator c = coordinator(request, type, data.key());
            return Reply.completed(response.setErrorCode(c.errorCode()).setErrorMessage(c.errorMessage())
                    .setNodeId(c.nodeId()).setHost(c.host()).setPort(c.port()));
        }
        for (String key : data.coordinatorKeys()) {
            response.coordinators().add(coordinator(request, type, key));
        }
        return Reply.completed(response);
    }

    private Coordinator coordinator(Request request, CoordinatorType type, String key) {
        Coordinator c = new Coordinator().setKey(key).setNodeId(-1).setHost("").setPort(-1);
        if (type == CoordinatorType.GROUP && key != null && !access.group(request, AclOperation.DESCRIBE, key)) {
            return c.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(Errors.GROUP_AUTHORIZATION_FAILED.message());
        }
        if (type == CoordinatorType.TRANSACTION && key != null
                && !access.transactionalId(request, AclOperation.DESCRIBE, key)) {
            return c.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.message());
        }
        if (type == null) {
            return c.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Unknown coordinator type");
        }
        if (type != CoordinatorType.GROUP && type != CoordinatorType.TRANSACTION) {
            return c.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code())
                    .setErrorMessage(type + " coordinators are not available in this Bulwark version");
        }
        if (key == null || key.isEmpty()) {
            return c.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(
                    type == CoordinatorType.GROUP ? "A group id is required" : "A transactional id is required");
        }
        return c.setNodeId(cluster.nodeId()).setHost(request.listener().advertisedHost())
                .setPort(request.listener().advertisedPort());
    }
}
