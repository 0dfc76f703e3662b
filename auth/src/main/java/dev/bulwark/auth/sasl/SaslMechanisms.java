package dev.bulwark.auth.sasl;

import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;
import org.apache.kafka.common.errors.UnsupportedSaslMechanismException;
import org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerSaslServer;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

import javax.security.sasl.SaslServer;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The SASL mechanisms a listener offers, and the factory of each connection's {@link Authentication}.
 *
 * <p>The exchanges are kafka-clients' own server implementations ({@link PlainSaslServer},
 * {@link OAuthBearerSaslServer}) and {@link ScramServer} (Kafka's SCRAM server, tolerant of librdkafka's nonce), so
 * the bytes on the wire are Kafka's; Bulwark supplies their callback handlers:
 * PLAIN checks the password against the stored SCRAM credential, SCRAM is given the stored credential, OAUTHBEARER
 * asks the {@link BearerTokenValidator}. Usernames are {@code user@tenant} ({@link dev.bulwark.auth.UserName}).
 *
 * <p>The gateway's SaslHandshake: answer UNSUPPORTED_SASL_MECHANISM with {@link #enabled()} unless
 * {@link #isEnabled}; otherwise {@link #start} the connection's exchange and answer NONE with {@link #enabled()}.
 *
 * <p>Thread-safe: one instance serves every connection of a listener.
 */
public final class SaslMechanisms {

    public static final String PLAIN = PlainSaslServer.PLAIN_MECHANISM;
    public static final String SCRAM_SHA_256 = ScramMechanism.SCRAM_SHA_256.mechanismName();
    public static final String SCRAM_SHA_512 = ScramMechanism.SCRAM_SHA_512.mechanismName();
    public static final String OAUTHBEARER = "OAUTHBEARER";
    public static final List<String> SUPPORTED = List.of(PLAIN, SCRAM_SHA_256, SCRAM_SHA_512, OAUTHBEARER);

    private final List<String> enabled;
    private final Lookup lookup;
    private final BearerTokenValidator validator;
    private final Clock clock;

    /**
     * @param validator validates OAUTHBEARER tokens; may be null only when OAUTHBEARER is not enabled
     * @param clock     the time tokens are checked against when an exchange completes
     */
    public SaslMechanisms(SaslMechanismsConfig config, TenantStore tenants, UserStore users,
                          BearerTokenValidator validator, Clock clock) {
        this.enabled = config.enabled();
        this.lookup = new Lookup(Objects.requireNonNull(tenants, "tenants"), Objects.requireNonNull(users, "users"));
        this.clock = Objects.requireNonNull(clock, "clock");
        if (enabled.contains(OAUTHBEARER) && validator == null) {
            throw new IllegalArgumentException("OAUTHBEARER is enabled but no bearer token validator is configured");
        }
        this.validator = validator;
    }

    /** The enabled mechanisms, in the order SaslHandshake lists them. */
    public List<String> enabled() {
        return enabled;
    }

    public boolean isEnabled(String mechanism) {
        return enabled.contains(mechanism);
    }

    /**
     * Starts an exchange.
     *
     * @param clientAddress the client's address, for logs and failure counting
     * @throws UnsupportedSaslMechanismException when {@code mechanism} is not enabled (UNSUPPORTED_SASL_MECHANISM)
     */
    public Authentication start(String mechanism, String clientAddress) {
        if (!isEnabled(mechanism)) {
            throw new UnsupportedSaslMechanismException("Unsupported SASL mechanism " + mechanism
                    + "; this listener offers " + enabled);
        }
        Attempt attempt = new Attempt();
        SaslServer server;
        if (PLAIN.equals(mechanism)) {
            server = new PlainSaslServer(new PlainCallbackHandler(lookup, attempt));
        } else if (OAUTHBEARER.equals(mechanism)) {
            server = new OAuthBearerSaslServer(new OAuthBearerCallbackHandler(validator, lookup, attempt));
        } else {
            ScramMechanism scram = ScramMechanism.forMechanismName(mechanism);
            server = new ScramServer(lookup.users().scram(scram), new ScramCallbackHandler(scram, lookup, attempt));
        }
        return new Authentication(mechanism, clientAddress, server, attempt, lookup.tenants(), clock);
    }
}
