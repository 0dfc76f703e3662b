package dev.bulwark.auth.sasl;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.User;
import dev.bulwark.auth.store.UserStore;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import java.util.Optional;

/**
 * Answers kafka-clients' {@code PlainSaslServer}: checks the password against the user's stored SCRAM credential
 * ({@link UserStore#verifyPassword}), which costs the same whether or not the user or its tenant exists.
 */
final class PlainCallbackHandler implements CallbackHandler {

    /** No tenant has this id: verifying against it costs a decoy derivation and fails. */
    private static final String NO_TENANT = "";

    private final Lookup lookup;
    private final Attempt attempt;

    PlainCallbackHandler(Lookup lookup, Attempt attempt) {
        this.lookup = lookup;
        this.attempt = attempt;
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        NameCallback nameCallback = null;
        PlainAuthenticateCallback authenticateCallback = null;
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback n) {
                nameCallback = n;
            } else if (callback instanceof PlainAuthenticateCallback a) {
                authenticateCallback = a;
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
        if (nameCallback == null || authenticateCallback == null) {
            throw new IllegalStateException("PLAIN asks for a name and a password together");
        }
        String username = nameCallback.getDefaultName();
        attempt.username = username;
        UserName name = UserName.parse(username);
        String password = new String(authenticateCallback.password());

        Optional<Tenant> tenant = lookup.tenantOf(name);
        String tenantId = tenant.map(Tenant::id).orElse(NO_TENANT);
        UserStore.PasswordCheck check = lookup.users().verifyPassword(tenantId, name.user(), password);
        Optional<User> user = lookup.users().get(tenantId, name.user());
        if (tenant.isEmpty()) {
            attempt.fail(FailureReason.UNKNOWN_TENANT);
        } else if (check == UserStore.PasswordCheck.UNKNOWN_USER || user.isEmpty()) {
            attempt.fail(FailureReason.UNKNOWN_USER);
        } else if (check == UserStore.PasswordCheck.WRONG_PASSWORD) {
            attempt.fail(FailureReason.INVALID_CREDENTIALS);
        } else {
            attempt.candidate = new AuthenticatedPrincipal(name.user(), tenantId, user.get().role(),
                    SaslMechanisms.PLAIN, -1);
        }
        authenticateCallback.authenticated(attempt.candidate != null);
    }
}
