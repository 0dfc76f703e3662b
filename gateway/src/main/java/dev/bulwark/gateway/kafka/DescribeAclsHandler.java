package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.AclStore;
import dev.bulwark.acl.TenantAcl;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeAclsRequest;
import org.apache.kafka.common.requests.DescribeAclsResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * DescribeAcls: the ACLs the filter selects among those the sender may see ({@link AclScope}). Needs DESCRIBE on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED otherwise).
 */
public final class DescribeAclsHandler implements ApiHandler {

    private final AclStore acls;
    private final AclScope scope;
    private final AccessControl access;

    public DescribeAclsHandler(AclStore acls, TenantStore tenants, AccessControl access) {
        this.acls = acls;
        this.scope = new AclScope(tenants);
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        DescribeAclsResponseData response = new DescribeAclsResponseData();
        if (!request.principal().isOperator() && !access.cluster(request, AclOperation.DESCRIBE)) {
            return Reply.completed(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setErrorMessage("Not authorized to describe ACLs"));
        }
        AclBindingFilter filter = ((DescribeAclsRequest) request.body()).filter();
        List<AclBinding> found = new ArrayList<>();
        for (TenantAcl acl : acls.index().all()) {
            if (scope.selects(request.principal(), filter, acl)) {
                found.add(scope.display(request.principal(), acl));
            }
        }
        return Reply.completed(response.setResources(DescribeAclsResponse.aclsResources(found)));
    }
}
