package dev.bulwark.gateway.kafka;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.UnsupportedSaslMechanismException;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialDeletion;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialUpsertion;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * AlterUserScramCredentials (KIP-554): what {@code kafka-configs --alter --add-config 'SCRAM-SHA-512=[password=…]'
 * --entity-type users} sends. One result per user, as Kafka answers: a user named twice for one mechanism is
 * DUPLICATE_RESOURCE, an unknown mechanism UNSUPPORTED_SASL_MECHANISM, a missing credential RESOURCE_NOT_FOUND;
 * a user's changes are all checked before any is applied.
 */
public final class AlterUserScramCredentialsHandler implements ApiHandler {

    private static final Logger LOG = LoggerFactory.getLogger(AlterUserScramCredentialsHandler.class);

    private final UserStore users;
    private final ScramUserNames names;

    public AlterUserScramCredentialsHandler(UserStore users, ScramUserNames names) {
        this.users = users;
        this.names = names;
    }

    /** One user's deletions and upsertions, in request order. */
    private static final class Changes {
        final List<ScramCredentialDeletion> deletions = new ArrayList<>();
        final List<ScramCredentialUpsertion> upsertions = new ArrayList<>();
        final Set<Byte> mechanisms = new HashSet<>();
        boolean duplicate;

        void mechanism(byte type) {
            duplicate |= !mechanisms.add(type);
        }
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        AlterUserScramCredentialsRequestData data = request.data();
        Map<String, Changes> byUser = new LinkedHashMap<>();
        for (ScramCredentialDeletion deletion : data.deletions()) {
            Changes changes = byUser.computeIfAbsent(deletion.name(), n -> new Changes());
            changes.deletions.add(deletion);
            changes.mechanism(deletion.mechanism());
        }
        for (ScramCredentialUpsertion upsertion : data.upsertions()) {
            Changes changes = byUser.computeIfAbsent(upsertion.name(), n -> new Changes());
            changes.upsertions.add(upsertion);
            changes.mechanism(upsertion.mechanism());
        }
        AlterUserScramCredentialsResponseData response = new AlterUserScramCredentialsResponseData();
        byUser.forEach((user, changes) -> {
            AlterUserScramCredentialsResult result = new AlterUserScramCredentialsResult().setUser(user);
            try {
                apply(request.principal(), user, changes);
                result.setErrorCode(Errors.NONE.code());
            } catch (ApiException e) {
                result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
            }
            response.results().add(result);
        });
        return Reply.completed(response);
    }

    private void apply(AuthenticatedPrincipal caller, String user, Changes changes) {
        ScramUserNames.Target target = names.resolve(caller, user);
        if (changes.duplicate) {
            throw new DuplicateResourceException("A user credential cannot be altered twice in the same request");
        }
        for (byte type : changes.mechanisms) {
            mechanism(type);
        }
        for (ScramCredentialDeletion deletion : changes.deletions) {
            if (users.scramCredential(target.tenantId(), target.name(), mechanism(deletion.mechanism())).isEmpty()) {
                throw new ResourceNotFoundException(
                        "Attempt to delete a user credential that does not exist");
            }
        }
        try {
            for (ScramCredentialDeletion deletion : changes.deletions) {
                users.deleteScramCredential(target.tenantId(), target.name(), mechanism(deletion.mechanism()));
            }
            for (ScramCredentialUpsertion upsertion : changes.upsertions) {
                users.upsertScramCredential(target.tenantId(), target.name(), mechanism(upsertion.mechanism()),
                        upsertion.salt(), upsertion.saltedPassword(), upsertion.iterations());
            }
        } catch (IOException e) {
            LOG.error("storing the SCRAM credentials of a user failed", e);
            throw new KafkaStorageException("The credentials could not be stored");
        }
    }

    /** The mechanism of a wire type byte (1 SCRAM-SHA-256, 2 SCRAM-SHA-512, as the admin client numbers them). */
    static ScramMechanism mechanism(byte type) {
        org.apache.kafka.clients.admin.ScramMechanism mechanism = org.apache.kafka.clients.admin.ScramMechanism
                .fromType(type);
        if (mechanism == org.apache.kafka.clients.admin.ScramMechanism.UNKNOWN) {
            throw new UnsupportedSaslMechanismException("Unknown SCRAM mechanism " + type);
        }
        return ScramMechanism.forMechanismName(mechanism.mechanismName());
    }

    /** The wire type byte of a mechanism. */
    static byte type(ScramMechanism mechanism) {
        return org.apache.kafka.clients.admin.ScramMechanism.fromMechanismName(mechanism.mechanismName()).type();
    }
}
