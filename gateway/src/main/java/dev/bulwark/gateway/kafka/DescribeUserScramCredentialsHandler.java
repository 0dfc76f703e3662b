package dev.bulwark.gateway.kafka;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.store.User;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.CredentialInfo;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult;
import org.apache.kafka.common.protocol.Errors;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * DescribeUserScramCredentials: the mechanisms and iteration counts of users' SCRAM credentials, never a secret. No
 * names means every user the caller manages that has a credential; a named user without one is RESOURCE_NOT_FOUND,
 * a name given twice DUPLICATE_RESOURCE, as Kafka answers. A caller that manages no users gets
 * CLUSTER_AUTHORIZATION_FAILED for the whole request.
 */
public final class DescribeUserScramCredentialsHandler implements ApiHandler {

    private final UserStore users;
    private final ScramUserNames names;

    public DescribeUserScramCredentialsHandler(UserStore users, ScramUserNames names) {
        this.users = users;
        this.names = names;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        DescribeUserScramCredentialsRequestData data = request.data();
        AuthenticatedPrincipal caller = request.principal();
        DescribeUserScramCredentialsResponseData response = new DescribeUserScramCredentialsResponseData();
        if (!ScramUserNames.mayManageUsers(caller)) {
            return Reply.completed(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setErrorMessage("Not authorized to describe user credentials"));
        }
        if (data.users() == null || data.users().isEmpty()) {
            List<User> visible = caller.role() == Role.OPERATOR ? users.list() : users.list(caller.tenantId());
            for (User user : visible) {
                if (!user.scramIterations().isEmpty()
                        && (caller.role() == Role.OPERATOR || user.role() != Role.OPERATOR)) {
                    response.results().add(describe(names.display(caller, user), user));
                }
            }
            return Reply.completed(response);
        }
        Map<String, Integer> requested = new HashMap<>();
        data.users().forEach(u -> requested.merge(u.name(), 1, Integer::sum));
        for (DescribeUserScramCredentialsRequestData.UserName name : data.users()) {
            if (requested.get(name.name()) > 1) {
                response.results().add(failure(name.name(), new DuplicateResourceException(
                        "Cannot describe SCRAM credentials for the same user twice in a single request")));
                continue;
            }
            try {
                ScramUserNames.Target target = names.resolve(caller, name.name());
                User user = users.get(target.tenantId(), target.name())
                        .filter(u -> !u.scramIterations().isEmpty())
                        .orElseThrow(() -> new ResourceNotFoundException(
                                "Attempt to describe a user credential that does not exist"));
                response.results().add(describe(name.name(), user));
            } catch (ApiException e) {
                response.results().add(failure(name.name(), e));
            }
        }
        return Reply.completed(response);
    }

    private static DescribeUserScramCredentialsResult describe(String name, User user) {
        DescribeUserScramCredentialsResult result = new DescribeUserScramCredentialsResult().setUser(name)
                .setErrorCode(Errors.NONE.code());
        user.scramIterations().forEach((mechanism, iterations) -> result.credentialInfos().add(new CredentialInfo()
                .setMechanism(AlterUserScramCredentialsHandler.type(mechanism)).setIterations(iterations)));
        return result;
    }

    private static DescribeUserScramCredentialsResult failure(String name, ApiException e) {
        return new DescribeUserScramCredentialsResult().setUser(name).setErrorCode(Errors.forException(e).code())
                .setErrorMessage(e.getMessage());
    }
}
