package dev.bulwark.auth.sasl;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.User;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import java.util.Optional;

/**
 * Answers {@link ScramServer} with the stored credential of the named user. For a user or tenant
 * that does not exist it answers with a decoy ({@link dev.bulwark.auth.store.UserStore#decoyCredential}), so the
 * exchange runs to the client's proof and fails there, exactly as a wrong password does.
 *
 * <p>Delegation tokens (the {@code tokenauth} SCRAM extension) are not supported: their callback is refused.
 */
final class ScramCallbackHandler implements CallbackHandler {

    private final ScramMechanism mechanism;
    private final Lookup lookup;
    private final Attempt attempt;

    ScramCallbackHandler(ScramMechanism mechanism, Lookup lookup, Attempt attempt) {
        this.mechanism = mechanism;
        this.lookup = lookup;
        this.attempt = attempt;
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        NameCallback nameCallback = null;
        ScramCredentialCallback credentialCallback = null;
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback n) {
                nameCallback = n;
            } else if (callback.getClass() == ScramCredentialCallback.class) {
                credentialCallback = (ScramCredentialCallback) callback;
            } else {
                // DelegationTokenCredentialCallback (a subclass) lands here too: no delegation tokens.
                attempt.fail(FailureReason.MALFORMED);
                throw new UnsupportedCallbackException(callback, "not supported by Bulwark");
            }
        }
        if (nameCallback == null || credentialCallback == null) {
            throw new IllegalStateException("SCRAM asks for a name and a credential together");
        }
        String username = nameCallback.getDefaultName();
        attempt.username = username;
        UserName name = UserName.parse(username);

        Optional<Tenant> tenant = lookup.tenantOf(name);
        Optional<User> user = tenant.flatMap(t -> lookup.users().get(t.id(), name.user()));
        Optional<ScramCredential> credential = tenant.flatMap(t ->
                lookup.users().scramCredential(t.id(), name.user(), mechanism));
        if (tenant.isPresent() && user.isPresent() && credential.isPresent()) {
            attempt.candidate = new AuthenticatedPrincipal(name.user(), tenant.get().id(), user.get().role(),
                    mechanism.mechanismName(), -1);
            credentialCallback.scramCredential(credential.get());
        } else {
            attempt.fail(tenant.isEmpty() ? FailureReason.UNKNOWN_TENANT : FailureReason.UNKNOWN_USER);
            credentialCallback.scramCredential(lookup.users().decoyCredential(mechanism, username));
        }
    }
}
