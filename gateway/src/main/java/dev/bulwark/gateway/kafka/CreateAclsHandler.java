package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.AclStore;
import dev.bulwark.acl.TenantAcl;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsRequestData.AclCreation;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.CreateAclsResponseData.AclCreationResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateAclsRequest;
import org.apache.kafka.common.resource.ResourceType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * CreateAcls: each creation lands in the tenant its principal names ({@link AclScope}), durable before the answer.
 * Needs ALTER on the cluster (of that tenant; operators manage every tenant). Resource types are TOPIC, GROUP,
 * CLUSTER (named {@code kafka-cluster}) and TRANSACTIONAL_ID, patterns LITERAL or PREFIXED.
 */
public final class CreateAclsHandler implements ApiHandler {

    private static final Set<ResourceType> TYPES = Set.of(ResourceType.TOPIC, ResourceType.GROUP,
            ResourceType.CLUSTER, ResourceType.TRANSACTIONAL_ID);

    private final AclStore acls;
    private final AclScope scope;
    private final AccessControl access;

    public CreateAclsHandler(AclStore acls, TenantStore tenants, AccessControl access) {
        this.acls = acls;
        this.scope = new AclScope(tenants);
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        CreateAclsRequestData data = request.data();
        boolean mayAlter = request.principal().isOperator() || access.cluster(request, AclOperation.ALTER);
        CreateAclsResponseData response = new CreateAclsResponseData();
        List<TenantAcl> valid = new ArrayList<>();
        List<AclCreationResult> validResults = new ArrayList<>();
        for (AclCreation creation : data.creations()) {
            AclCreationResult result = new AclCreationResult();
            response.results().add(result);
            if (!mayAlter) {
                fail(result, Errors.CLUSTER_AUTHORIZATION_FAILED, "Not authorized to create ACLs");
                continue;
            }
            try {
                AclBinding binding = CreateAclsRequest.aclBinding(creation);
                checkResource(binding);
                AclScope.Resolved target = scope.resolve(request.principal(), binding.entry().principal())
                        .orElse(null);
                if (target == null) {
                    fail(result, Errors.CLUSTER_AUTHORIZATION_FAILED, "Not authorized to create ACLs for "
                            + binding.entry().principal());
                    continue;
                }
                TenantAcl acl = new TenantAcl(target.tenantId(), new AclBinding(binding.pattern(),
                        new AccessControlEntry(target.principal(), binding.entry().host(),
                                binding.entry().operation(), binding.entry().permissionType())));
                AclStore.checkStorable(acl);
                valid.add(acl);
                validResults.add(result);
            } catch (IllegalArgumentException e) {
                fail(result, Errors.INVALID_REQUEST, e.getMessage());
            }
        }
        if (!valid.isEmpty()) {
            try {
                acls.add(valid);
            } catch (IOException e) {
                validResults.forEach(r -> fail(r, Errors.KAFKA_STORAGE_ERROR, "Storing the ACLs failed: "
                        + e.getMessage()));
            }
        }
        return Reply.completed(response);
    }

    private static void checkResource(AclBinding binding) {
        ResourceType type = binding.pattern().resourceType();
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("Bulwark keeps ACLs on TOPIC, GROUP, CLUSTER and TRANSACTIONAL_ID "
                    + "resources, not " + type);
        }
        if (type == ResourceType.CLUSTER && !AccessControl.CLUSTER_NAME.equals(binding.pattern().name())) {
            throw new IllegalArgumentException("The cluster resource is named " + AccessControl.CLUSTER_NAME);
        }
    }

    private static void fail(AclCreationResult result, Errors error, String message) {
        result.setErrorCode(error.code()).setErrorMessage(message);
    }
}
