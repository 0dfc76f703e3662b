package dev.bulwark.gateway.it;

import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.auth.SaslExtensionsCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Java client's OAUTHBEARER login for the tests: hands over the JWT given as the JAAS option {@code token}, as a
 * login callback handler fetching from an identity provider would.
 * {@code sasl.login.callback.handler.class=dev.bulwark.gateway.it.TestTokenLoginHandler}.
 */
public final class TestTokenLoginHandler implements AuthenticateCallbackHandler {

    private String token;
    private long lifetimeMs;

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        Map<String, ?> options = jaasConfigEntries.get(0).getOptions();
        token = (String) options.get("token");
        lifetimeMs = Long.parseLong((String) options.get("lifetimeMs"));
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerTokenCallback tokenCallback) {
                tokenCallback.token(new Token(token, lifetimeMs));
            } else if (!(callback instanceof SaslExtensionsCallback)) {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    @Override
    public void close() {
    }

    private record Token(String value, long lifetimeMs) implements OAuthBearerToken {
        @Override
        public Set<String> scope() {
            return Set.of();
        }

        @Override
        public String principalName() {
            return "test";
        }

        @Override
        public Long startTimeMs() {
            return null;
        }
    }
}
