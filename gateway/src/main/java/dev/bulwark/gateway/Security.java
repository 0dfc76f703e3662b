package dev.bulwark.gateway;

import dev.bulwark.auth.AuthenticationFailures;
import dev.bulwark.auth.jwt.JwksSource;
import dev.bulwark.auth.jwt.JwtBearerTokens;
import dev.bulwark.auth.jwt.JwtValidator;
import dev.bulwark.auth.jwt.JwtValidatorConfig;
import dev.bulwark.auth.sasl.SaslMechanisms;
import dev.bulwark.auth.sasl.SaslMechanismsConfig;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.auth.tls.CertificatePrincipals;
import dev.bulwark.auth.tls.ClientAuth;
import dev.bulwark.auth.tls.DevCertificateAuthority;
import dev.bulwark.auth.tls.DevTls;
import dev.bulwark.auth.tls.KeySource;
import dev.bulwark.auth.tls.TlsSources;
import dev.bulwark.auth.tls.TrustSource;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.gateway.audit.AuditTrail;
import dev.bulwark.gateway.audit.AuthenticationAudit;
import dev.bulwark.gateway.config.BulwarkConfig;
import dev.bulwark.gateway.network.AuthenticationAttempt;
import dev.bulwark.gateway.network.ListenerSpec;
import dev.bulwark.gateway.network.SaslSessions;
import dev.bulwark.gateway.network.TenantConnections;
import dev.bulwark.gateway.network.TlsTermination;
import dev.bulwark.gateway.telemetry.AuthenticationMetrics;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.CryptoProvider;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Who may connect and as whom, composed from configuration: the tenant and user stores (with the configured
 * operator), JWT validation, the failed-authentication counts, the SASL mechanisms of SASL listeners, the TLS
 * termination of TLS listeners, and the count of each tenant's connections (with a development CA when no TLS material is configured).
 *
 * @param tenants  the tenants
 * @param users    the users and their credentials
 * @param jwt      validates bearer tokens, when {@code bulwark.jwt} names a key set
 * @param failures failed authentications per source address and username, shared by the SASL listeners and the
 *                 REST API so that guessing through one does not reset or halve the delay earned through the other
 * @param sasl     what SASL listeners' connections authenticate with; null without SASL listeners
 * @param tls      TLS termination; null without TLS listeners
 * @param connections each tenant's live authenticated connections, held to its max-connections
 * @param attempts    where every authentication and every failed one is reported (the audit trail, the metrics)
 */
public record Security(TenantStore tenants, UserStore users, Optional<JwtValidator> jwt,
                       AuthenticationFailures failures, SaslSessions sasl, TlsTermination tls,
                       TenantConnections connections, Consumer<AuthenticationAttempt> attempts)
        implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Security.class);

    /** Where the tenant and user stores (and the ACLs and quotas) live in a data directory. */
    public static Path directory(Path dataDir) {
        return dataDir.resolve("security");
    }

    /**
     * @param sealedFiles seals the tenant and user stores under the broker's key
     * @param crypto      derives and checks SCRAM and PLAIN credentials
     * @param metrics     where failed authentications are counted
     */
    public static Security open(BulwarkConfig config, BrokerConfigs broker, List<ListenerSpec> listeners,
                                Path dataDir, SealedFiles sealedFiles, CryptoProvider crypto, AuditTrail audit,
                                MeterRegistry metrics, Clock clock) throws IOException {
        Path securityDir = directory(dataDir);
        TenantStore tenants = TenantStore.open(securityDir, sealedFiles, clock);
        UserStore users = UserStore.open(securityDir, sealedFiles, config.sasl().scramIterations(), crypto, clock);
        if (config.operator().isPresent()) {
            UserStore.Bootstrap outcome = users.bootstrapOperator(config.operator().get());
            LOG.info("Operator from bulwark.operator: {}", switch (outcome) {
                case CREATED -> "created";
                case COMPLETED -> "credentials completed";
                case PRESENT -> "already present, left as it is";
            });
        }
        Optional<JwtValidator> jwt = jwtValidator(config.jwt(), clock);
        AuthenticationFailures failures = new AuthenticationFailures(new AuthenticationFailures.Config(
                config.sasl().failureDelay(), config.sasl().failureDelayMax(), config.sasl().failureWindow(),
                100_000), clock);

        TenantConnections connections = new TenantConnections(tenants);
        Consumer<AuthenticationAttempt> attempts = new AuthenticationAudit(audit, tenants, clock)
                .andThen(new AuthenticationMetrics(metrics, tenants));
        SaslSessions sasl = null;
        if (listeners.stream().anyMatch(l -> usesSasl(l.securityProtocol()))) {
            @SuppressWarnings("unchecked")
            List<String> enabled = (List<String>) broker.values().get(BrokerConfigs.SASL_ENABLED_MECHANISMS);
            SaslMechanismsConfig mechanisms = new SaslMechanismsConfig(enabled);
            if (mechanisms.enabled().contains(SaslMechanisms.OAUTHBEARER) && jwt.isEmpty()) {
                throw new IllegalArgumentException("sasl.enabled.mechanisms has OAUTHBEARER, which needs "
                        + "bulwark.jwt.jwks-file or bulwark.jwt.jwks-url");
            }
            sasl = new SaslSessions(new SaslMechanisms(mechanisms, tenants, users,
                    jwt.map(JwtBearerTokens::new).orElse(null), clock), failures,
                    broker.longValue(BrokerConfigs.CONNECTIONS_MAX_REAUTH_MS), clock, connections, attempts);
        }

        TlsTermination tls = null;
        if (listeners.stream().anyMatch(l -> usesTls(l.securityProtocol()))) {
            tls = TlsTermination.open(tlsSources(config, dataDir, clock),
                    ClientAuth.parse(broker.valueString(BrokerConfigs.SSL_CLIENT_AUTH)),
                    new CertificatePrincipals(broker.valueString(BrokerConfigs.SSL_PRINCIPAL_MAPPING_RULES)), tenants);
        }
        return new Security(tenants, users, jwt, failures, sasl, tls, connections, attempts);
    }

    /** Checks the TLS files for changes, as often as {@code bulwark.tls.reload-interval} says. */
    public void watchCertificates(BulwarkConfig config, ScheduledExecutorService scheduler) {
        if (tls != null) {
            tls.watch(scheduler, config.tls().reloadInterval());
        }
    }

    private static boolean usesSasl(SecurityProtocol protocol) {
        return protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
    }

    private static boolean usesTls(SecurityProtocol protocol) {
        return protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL;
    }

    private static Optional<JwtValidator> jwtValidator(BulwarkConfig.Jwt jwt, Clock clock) {
        if (jwt.jwksFile().isPresent() && jwt.jwksUrl().isPresent()) {
            throw new IllegalArgumentException("Set one of bulwark.jwt.jwks-file and bulwark.jwt.jwks-url, not both");
        }
        Optional<String> location = jwt.jwksFile().or(jwt::jwksUrl);
        if (location.isEmpty()) {
            return Optional.empty();
        }
        JwtValidatorConfig validatorConfig = JwtValidatorConfig.builder(JwksSource.parse(location.get()),
                        jwt.issuer().orElseThrow(() -> new IllegalArgumentException(
                                "bulwark.jwt.issuer is required with a JWK set")),
                        jwt.audience().orElseThrow(() -> new IllegalArgumentException(
                                "bulwark.jwt.audience is required with a JWK set")))
                .algorithms(jwt.algorithms().toArray(String[]::new))
                .clockSkew(jwt.clockSkew())
                .principalClaim(jwt.principalClaim())
                .tenantClaim(jwt.tenantClaim())
                .rolesClaim(jwt.rolesClaim())
                .build();
        return Optional.of(new JwtValidator(validatorConfig, clock));
    }

    /** The configured key, certificate and trusted CAs, or the development CA's when no key is configured. */
    private static TlsSources tlsSources(BulwarkConfig config, Path dataDir, Clock clock) throws IOException {
        BulwarkConfig.Tls tls = config.tls();
        TrustSource trust = tls.truststoreFile().map(file -> {
            String lower = file.toLowerCase(Locale.ROOT);
            return lower.endsWith(".p12") || lower.endsWith(".pfx")
                    ? (TrustSource) new TrustSource.Pkcs12(Path.of(file), secret(tls.truststorePasswordFile()))
                    : new TrustSource.Pem(Path.of(file));
        }).orElse(null);
        if (tls.keystoreFile().isPresent()) {
            if (tls.certificateFile().isPresent() || tls.keyFile().isPresent()) {
                throw new IllegalArgumentException("Set bulwark.tls.keystore-file or bulwark.tls.certificate-file "
                        + "with bulwark.tls.key-file, not both");
            }
            return new TlsSources(new KeySource.Pkcs12(Path.of(tls.keystoreFile().get()),
                    secret(tls.keystorePasswordFile())), trust);
        }
        if (tls.certificateFile().isPresent() != tls.keyFile().isPresent()) {
            throw new IllegalArgumentException("bulwark.tls.certificate-file and bulwark.tls.key-file go together");
        }
        if (tls.certificateFile().isPresent()) {
            return new TlsSources(new KeySource.Pem(Path.of(tls.certificateFile().get()),
                    Path.of(tls.keyFile().get()), secret(tls.keyPasswordFile())), trust);
        }
        DevTls dev = DevCertificateAuthority.ensure(dataDir.resolve("tls"), config.advertisedHost(), clock);
        LOG.warn(dev.clientHint());
        return new TlsSources(dev.keySource(), trust != null ? trust : dev.caTrustSource());
    }

    /** A password from a file (its first line), so that no secret sits in configuration. */
    private static String secret(Optional<String> file) {
        if (file.isEmpty()) {
            return null;
        }
        try {
            String content = Files.readString(Path.of(file.get()), StandardCharsets.UTF_8);
            int end = content.indexOf('\n');
            return (end < 0 ? content : content.substring(0, end)).stripTrailing();
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read the password file " + file.get() + ": " + e.getMessage(),
                    e);
        }
    }

    @Override
    public void close() {
        if (tls != null) {
            tls.close();
        }
    }
}
