package dev.bulwark.auth.jwt;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

import com.nimbusds.jose.JWSAlgorithm;

/**
 * How {@link JwtValidator} checks tokens; validated when built, so a wrong setting stops the start with a clear
 * message.
 *
 * @param jwks            where the signing keys come from
 * @param algorithms      the accepted {@code alg} values (default RS256, ES256). RSA (RS*, PS*) and EC (ES256/384/512)
 *                        only: {@code none} and the HMAC algorithms are refused (a shared secret would let anyone who
 *                        validates tokens mint them), and EdDSA needs Google Tink, which Bulwark does not ship
 * @param issuer          the required {@code iss}
 * @param audience        the value {@code aud} must contain
 * @param clockSkew       how far clocks may disagree, applied to {@code exp} and {@code nbf} (default 30s)
 * @param principalClaim  the claim naming the principal (default {@code sub})
 * @param tenantClaim     the claim naming the tenant (default {@code tenant}); a token without it belongs to the
 *                        default tenant
 * @param rolesClaim      the claim holding roles (default {@code roles}), a string or a list: {@code operator},
 *                        {@code tenant-admin}, {@code member}, {@code auditor}; other values are ignored
 */
public record JwtValidatorConfig(JwksSource jwks, Set<JWSAlgorithm> algorithms, String issuer, String audience,
                                 Duration clockSkew, String principalClaim, String tenantClaim, String rolesClaim) {

    public static final List<String> DEFAULT_ALGORITHMS = List.of("RS256", "ES256");
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);
    public static final String DEFAULT_PRINCIPAL_CLAIM = "sub";
    public static final String DEFAULT_TENANT_CLAIM = "tenant";
    public static final String DEFAULT_ROLES_CLAIM = "roles";

    /** What Nimbus verifies with the JDK's own providers. */
    public static final Set<JWSAlgorithm> SUPPORTED_ALGORITHMS = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

    public JwtValidatorConfig {
        Objects.requireNonNull(jwks, "jwks");
        if (algorithms == null || algorithms.isEmpty()) {
            throw new IllegalArgumentException("at least one JWT algorithm must be allowed");
        }
        for (JWSAlgorithm a : algorithms) {
            requireSupported(a.getName());
        }
        algorithms = Set.copyOf(algorithms);
        issuer = required(issuer, "the JWT issuer (iss)");
        audience = required(audience, "the JWT audience (aud)");
        if (clockSkew == null || clockSkew.isNegative()) {
            throw new IllegalArgumentException("the JWT clock skew must be zero or more");
        }
        principalClaim = required(principalClaim, "the principal claim");
        tenantClaim = required(tenantClaim, "the tenant claim");
        rolesClaim = required(rolesClaim, "the roles claim");
    }

    public static Builder builder(JwksSource jwks, String issuer, String audience) {
        return new Builder(jwks, issuer, audience);
    }

    /** Parses algorithm names ({@code RS256}, {@code ES256}, ...), refusing those Bulwark does not accept. */
    public static Set<JWSAlgorithm> parseAlgorithms(List<String> names) {
        Set<JWSAlgorithm> parsed = new LinkedHashSet<>();
        for (String name : names) {
            parsed.add(requireSupported(name.trim()));
        }
        return parsed;
    }

    private static JWSAlgorithm requireSupported(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        if (upper.equals("NONE")) {
            throw new IllegalArgumentException("JWT algorithm 'none' (unsigned tokens) is never accepted");
        }
        if (upper.startsWith("HS")) {
            throw new IllegalArgumentException("JWT algorithm " + name + " is not accepted: Bulwark verifies tokens"
                    + " with public keys only (RS*, PS*, ES*)");
        }
        if (upper.equals("EDDSA") || upper.equals("ED25519")) {
            throw new IllegalArgumentException("JWT algorithm " + name + " is not available: Nimbus verifies it"
                    + " with Google Tink, which Bulwark does not ship; use ES256 or RS256");
        }
        JWSAlgorithm algorithm = JWSAlgorithm.parse(upper);
        if (!SUPPORTED_ALGORITHMS.contains(algorithm)) {
            throw new IllegalArgumentException("JWT algorithm '" + name + "' is not supported; choose from RS256,"
                    + " RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512");
        }
        return algorithm;
    }

    private static String required(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must be configured");
        }
        return value.trim();
    }

    /** Defaults for everything but the key source, the issuer and the audience. */
    public static final class Builder {
        private final JwksSource jwks;
        private final String issuer;
        private final String audience;
        private Set<JWSAlgorithm> algorithms = parseAlgorithms(DEFAULT_ALGORITHMS);
        private Duration clockSkew = DEFAULT_CLOCK_SKEW;
        private String principalClaim = DEFAULT_PRINCIPAL_CLAIM;
        private String tenantClaim = DEFAULT_TENANT_CLAIM;
        private String rolesClaim = DEFAULT_ROLES_CLAIM;

        private Builder(JwksSource jwks, String issuer, String audience) {
            this.jwks = jwks;
            this.issuer = issuer;
            this.audience = audience;
        }

        public Builder algorithms(String... names) {
            this.algorithms = parseAlgorithms(List.of(names));
            return this;
        }

        public Builder clockSkew(Duration clockSkew) {
            this.clockSkew = clockSkew;
            return this;
        }

        public Builder principalClaim(String claim) {
            this.principalClaim = claim;
            return this;
        }

        public Builder tenantClaim(String claim) {
            this.tenantClaim = claim;
            return this;
        }

        public Builder rolesClaim(String claim) {
            this.rolesClaim = claim;
            return this;
        }

        public JwtValidatorConfig build() {
            return new JwtValidatorConfig(jwks, algorithms, issuer, audience, clockSkew, principalClaim, tenantClaim,
                    rolesClaim);
        }
    }
}
