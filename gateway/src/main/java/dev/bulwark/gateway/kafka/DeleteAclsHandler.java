package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.AclStore;
import dev.bulwark.acl.TenantAcl;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsResponseData.DeleteAclsFilterResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.DeleteAclsRequest;
import org.apache.kafka.common.requests.DeleteAclsResponse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * DeleteAcls: removes, durably, the ACLs each filter selects among those the sender may manage ({@link AclScope}),
 * and lists them per filter (an ACL two filters select is listed under both, as in Kafka). Needs ALTER on the cluster.
 */
public final class DeleteAclsHandler implements ApiHandler {

    private final AclStore acls;
    private final AclScope scope;
    private final AccessControl access;

    public DeleteAclsHandler(AclStore acls, TenantStore tenants, AccessControl access) {
        this.acls = acls;
        this.scope = new AclScope(tenants);
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        List<AclBindingFilter> filters = ((DeleteAclsRequest) request.body()).filters();
        DeleteAclsResponseData response = new DeleteAclsResponseData();
        if (!request.principal().isOperator() && !access.cluster(request, AclOperation.ALTER)) {
            for (int i = 0; i < filters.size(); i++) {
                response.filterResults().add(new DeleteAclsFilterResult()
                        .setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                        .setErrorMessage("Not authorized to delete ACLs"));
            }
            return Reply.completed(response);
        }
        List<TenantAcl> removed;
        try {
            removed = acls.remove(acl -> filters.stream().anyMatch(f -> scope.selects(request.principal(), f, acl)));
        } catch (IOException e) {
            for (int i = 0; i < filters.size(); i++) {
                response.filterResults().add(new DeleteAclsFilterResult()
                        .setErrorCode(Errors.KAFKA_STORAGE_ERROR.code())
                        .setErrorMessage("Storing the ACLs failed: " + e.getMessage()));
            }
            return Reply.completed(response);
        }
        for (AclBindingFilter filter : filters) {
            DeleteAclsFilterResult result = new DeleteAclsFilterResult();
            List<DeleteAclsResponseData.DeleteAclsMatchingAcl> matching = new ArrayList<>();
            for (TenantAcl acl : removed) {
                if (scope.selects(request.principal(), filter, acl)) {
                    matching.add(DeleteAclsResponse.matchingAcl(scope.display(request.principal(), acl),
                            ApiError.NONE));
                }
            }
            response.filterResults().add(result.setMatchingAcls(matching));
        }
        return Reply.completed(response);
    }
}
