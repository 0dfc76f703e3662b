package dev.bulwark.auth.sasl;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Answers kafka-clients' {@code OAuthBearerSaslServer}: the token goes to the {@link BearerTokenValidator}, the tenant
 * it names is resolved by name. A refused token becomes the RFC 7628 error challenge ({@code invalid_token}) the
 * server sends before failing the exchange. A token that makes an operator of a tenant's user is refused: operators
 * belong to the default tenant. SASL extensions are ignored.
 */
final class OAuthBearerCallbackHandler implements AuthenticateCallbackHandler {

    /** RFC 6750's error code for a token that is expired, revoked, malformed or otherwise invalid. */
    private static final String INVALID_TOKEN = "invalid_token";

    private final BearerTokenValidator validator;
    private final Lookup lookup;
    private final Attempt attempt;

    OAuthBearerCallbackHandler(BearerTokenValidator validator, Lookup lookup, Attempt attempt) {
        this.validator = validator;
        this.lookup = lookup;
        this.attempt = attempt;
    }

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerValidatorCallback validation) {
                validate(validation);
            } else if (!(callback instanceof OAuthBearerExtensionsValidatorCallback)) {
                throw new UnsupportedCallbackException(callback);
            }
            // Extensions: none is marked valid or invalid, so all are ignored.
        }
    }

    private void validate(OAuthBearerValidatorCallback callback) {
        BearerTokenValidator.ValidatedToken token;
        try {
            token = validator.validate(callback.tokenValue());
        } catch (InvalidTokenException e) {
            attempt.fail(FailureReason.INVALID_TOKEN);
            attempt.tokenProblem = e.getMessage();
            callback.error(INVALID_TOKEN, null, null);
            return;
        }
        String username = token.principal().saslUsername();
        attempt.username = username;
        Optional<Tenant> tenant = lookup.tenantOf(token.principal());
        if (tenant.isEmpty()) {
            attempt.fail(FailureReason.UNKNOWN_TENANT);
            callback.error(INVALID_TOKEN, null, null);
            return;
        }
        if (token.role() == Role.OPERATOR && !tenant.get().isDefault()) {
            attempt.fail(FailureReason.INVALID_TOKEN);
            attempt.tokenProblem = "an operator must belong to the default tenant";
            callback.error(INVALID_TOKEN, null, null);
            return;
        }
        attempt.candidate = new AuthenticatedPrincipal(token.principal().user(), tenant.get().id(), token.role(),
                SaslMechanisms.OAUTHBEARER, token.expiresAtMs());
        callback.token(new ValidToken(callback.tokenValue(), token.scope(), token.expiresAtMs(), username,
                token.issuedAtMs() < 0 ? null : token.issuedAtMs()));
    }

    @Override
    public void close() {
    }

    /** The token as kafka-clients' server wants it: its principal name is the authorization id it checks. */
    private record ValidToken(String value, Set<String> scope, long lifetimeMs, String principalName,
                              Long startTimeMs) implements OAuthBearerToken {
    }
}
