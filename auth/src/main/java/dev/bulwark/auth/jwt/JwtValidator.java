package dev.bulwark.auth.jwt;

import java.net.MalformedURLException;
import java.security.Key;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.jwt.JwtValidationException.Reason;

/**
 * Validates JWT bearer tokens (SASL OAUTHBEARER, RFC 7628; the REST API's {@code Authorization: Bearer}) with Nimbus
 * JOSE+JWT against a JWK Set from a file or a URL.
 *
 * <p>The checks, in order, each failing with its own {@link Reason}: the token parses as a signed JWT; its {@code alg}
 * is allowed ({@code none} and HMAC never are); its {@code typ} is absent, {@code JWT} or {@code at+jwt}; a key of the
 * JWK Set fits its {@code kid} and algorithm; the signature verifies. Only then are the claims read: {@code exp} is
 * required and must lie ahead ({@code now < exp + skew}); {@code nbf}, when present, must have come
 * ({@code now >= nbf - skew}); {@code iss} must equal the configured issuer; {@code aud} must contain the configured
 * audience; the principal claim must be a non-empty string; the tenant claim, when present, too; the roles claim must
 * grant at most one Bulwark role.
 *
 * <p>Roles: {@code operator} wins over any other (an operator sees everything); {@code tenant-admin} wins over
 * {@code member}; {@code auditor} together with {@code tenant-admin} or {@code member} is refused rather than guessed;
 * no Bulwark role is {@link Role#MEMBER}, whose rights are the tenant's ACLs.
 *
 * <p>Claim names may be paths into nested objects ({@code realm_access.roles}); a claim whose own name has a dot
 * ({@code https://example.com/roles}) is found first.
 *
 * <p>Threads: thread-safe. With a JWKS URL, {@link #validate} blocks while the key set is fetched (at first use, when
 * the cache expires, and for an unknown {@code kid}), up to the HTTP time-out: call it off the event loop (Vert.x
 * {@code executeBlocking}, or the SASL worker).
 *
 * <p>The SASL OAUTHBEARER server's {@code dev.bulwark.auth.sasl.BearerTokenValidator} (token to principal and expiry)
 * is this class's {@link #authenticate(String, Function)}, given the tenant registry's name-to-id lookup:
 * <pre>{@code
 * BearerTokenValidator bearer = token -> jwt.authenticate(token, tenants::idOfName);
 * }</pre>
 * The REST layer calls {@link #validate} and checks {@link ValidatedToken#role()} (operator, tenant-admin, auditor).
 */
public final class JwtValidator {

    /** Larger tokens are refused before they are parsed. */
    public static final int MAX_TOKEN_LENGTH = 64 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(JwtValidator.class);
    private static final Set<JOSEObjectType> ACCEPTED_TYPES = Set.of(JOSEObjectType.JWT,
            new JOSEObjectType("at+jwt"), new JOSEObjectType("application/at+jwt"));
    private static final Pattern PRINTABLE_KID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private final JwtValidatorConfig config;
    private final Clock clock;
    private final JWSVerificationKeySelector<SecurityContext> keySelector;
    private final DefaultJWSVerifierFactory verifiers = new DefaultJWSVerifierFactory();

    /**
     * @param clock the time tokens are checked against (the system UTC clock in production)
     * @throws IllegalArgumentException when a JWKS file cannot be read
     */
    public JwtValidator(JwtValidatorConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.keySelector = new JWSVerificationKeySelector<>(config.algorithms(), keySource(config.jwks(), clock));
    }

    public JwtValidatorConfig config() {
        return config;
    }

    /**
     * Checks a compact JWS ({@code header.payload.signature}).
     *
     * @throws JwtValidationException naming the check that failed, in words that may be sent to the client
     */
    public ValidatedToken validate(String compactJwt) throws JwtValidationException {
        SignedJWT jwt = parse(compactJwt);
        JWSHeader header = jwt.getHeader();
        if (!config.algorithms().contains(header.getAlgorithm())) {
            throw new JwtValidationException(Reason.ALGORITHM_NOT_ALLOWED,
                    "token algorithm " + header.getAlgorithm() + " is not allowed");
        }
        if (header.getType() != null && !ACCEPTED_TYPES.contains(header.getType())) {
            throw new JwtValidationException(Reason.MALFORMED, "token type (typ) is not JWT");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new JwtValidationException(Reason.MALFORMED, "token claims are not a valid JSON object");
        }
        verifySignature(jwt, header);
        return checkClaims(claims);
    }

    /**
     * {@link #validate} and the tenant's id: the shape of the SASL layer's {@code BearerTokenValidator}.
     *
     * @param tenantIdByName the id of a tenant by name, or null when there is no such tenant
     * @return the principal, whose {@code expiresAtMs} is the token's {@code exp}
     */
    public AuthenticatedPrincipal authenticate(String compactJwt, Function<String, String> tenantIdByName)
            throws JwtValidationException {
        ValidatedToken token = validate(compactJwt);
        String tenantId = tenantIdByName.apply(token.tenantName());
        if (tenantId == null) {
            throw new JwtValidationException(Reason.UNKNOWN_TENANT, "the token's tenant is not known");
        }
        return token.principal(tenantId);
    }

    private static SignedJWT parse(String compactJwt) throws JwtValidationException {
        if (compactJwt == null || compactJwt.isBlank()) {
            throw new JwtValidationException(Reason.MALFORMED, "no token");
        }
        if (compactJwt.length() > MAX_TOKEN_LENGTH) {
            throw new JwtValidationException(Reason.MALFORMED, "token is longer than " + MAX_TOKEN_LENGTH + " chars");
        }
        JWT jwt;
        try {
            jwt = JWTParser.parse(compactJwt.trim());
        } catch (ParseException e) {
            throw new JwtValidationException(Reason.MALFORMED, "token is not a JWT");
        }
        if (jwt instanceof PlainJWT) {
            throw new JwtValidationException(Reason.ALGORITHM_NOT_ALLOWED,
                    "unsigned tokens (algorithm none) are not accepted");
        }
        if (jwt instanceof EncryptedJWT) {
            throw new JwtValidationException(Reason.MALFORMED, "encrypted tokens are not accepted");
        }
        return (SignedJWT) jwt;
    }

    private void verifySignature(SignedJWT jwt, JWSHeader header) throws JwtValidationException {
        List<? extends Key> candidates;
        try {
            candidates = keySelector.selectJWSKeys(header, null);
        } catch (KeySourceException e) {
            LOG.warn("The JWT signing keys cannot be fetched: {}", e.toString());
            throw new JwtValidationException(Reason.KEYS_UNAVAILABLE,
                    "the token signing keys are unavailable; try again later", e);
        }
        if (candidates.isEmpty()) {
            String kid = header.getKeyID();
            throw new JwtValidationException(Reason.UNKNOWN_KEY, "no signing key matches the token"
                    + (kid != null && PRINTABLE_KID.matcher(kid).matches() ? " (kid " + kid + ")" : ""));
        }
        for (Key key : candidates) {
            try {
                JWSVerifier verifier = verifiers.createJWSVerifier(header, key);
                if (jwt.verify(verifier)) {
                    return;
                }
            } catch (JOSEException e) {
                LOG.debug("JWT key {} cannot verify {}: {}", header.getKeyID(), header.getAlgorithm(), e.toString());
            }
        }
        throw new JwtValidationException(Reason.BAD_SIGNATURE, "token signature does not verify");
    }

    private ValidatedToken checkClaims(JWTClaimsSet claims) throws JwtValidationException {
        Instant now = clock.instant();
        Duration skew = config.clockSkew();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw new JwtValidationException(Reason.MISSING_CLAIM, "token has no expiry (exp)");
        }
        Instant expiresAt = exp.toInstant();
        if (!now.isBefore(expiresAt.plus(skew))) {
            throw new JwtValidationException(Reason.EXPIRED, "token expired at " + expiresAt);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.isBefore(nbf.toInstant().minus(skew))) {
            throw new JwtValidationException(Reason.NOT_YET_VALID, "token is not valid before " + nbf.toInstant());
        }
        if (claims.getIssuer() == null) {
            throw new JwtValidationException(Reason.MISSING_CLAIM, "token has no issuer (iss)");
        }
        if (!config.issuer().equals(claims.getIssuer())) {
            throw new JwtValidationException(Reason.WRONG_ISSUER, "token issuer (iss) is not accepted");
        }
        List<String> audience = claims.getAudience();
        if (audience == null || audience.isEmpty()) {
            throw new JwtValidationException(Reason.MISSING_CLAIM, "token has no audience (aud)");
        }
        if (!audience.contains(config.audience())) {
            throw new JwtValidationException(Reason.WRONG_AUDIENCE, "token audience (aud) does not include this"
                    + " service");
        }
        String user = requiredString(claims, config.principalClaim());
        String tenant = optionalString(claims, config.tenantClaim());
        Date iat = claims.getIssueTime();
        return new ValidatedToken(user, tenant == null ? Tenant.DEFAULT_NAME : tenant, role(claims), expiresAt,
                iat == null ? null : iat.toInstant(), claims.getSubject(), claims.getJWTID(), scopes(claims));
    }

    private static String requiredString(JWTClaimsSet claims, String name) throws JwtValidationException {
        String value = optionalString(claims, name);
        if (value == null) {
            throw new JwtValidationException(Reason.MISSING_CLAIM, "token has no " + name + " claim");
        }
        return value;
    }

    private static String optionalString(JWTClaimsSet claims, String name) throws JwtValidationException {
        Object value = claim(claims, name);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String s) || s.isBlank()) {
            throw new JwtValidationException(Reason.INVALID_CLAIM, "token claim " + name + " is not a non-empty"
                    + " string");
        }
        return s;
    }

    private Role role(JWTClaimsSet claims) throws JwtValidationException {
        Object value = claim(claims, config.rolesClaim());
        List<String> values = new ArrayList<>();
        if (value instanceof String s) {
            values.addAll(List.of(s.trim().split("[\\s,]+")));
        } else if (value instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof String s)) {
                    throw new JwtValidationException(Reason.INVALID_CLAIM, "token claim " + config.rolesClaim()
                            + " holds a value that is not a string");
                }
                values.add(s);
            }
        } else if (value != null) {
            throw new JwtValidationException(Reason.INVALID_CLAIM, "token claim " + config.rolesClaim()
                    + " is neither a string nor a list of strings");
        }
        EnumSet<Role> granted = EnumSet.noneOf(Role.class);
        for (String v : values) {
            switch (v.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "operator" -> granted.add(Role.OPERATOR);
                case "tenant-admin" -> granted.add(Role.TENANT_ADMIN);
                case "member" -> granted.add(Role.MEMBER);
                case "auditor" -> granted.add(Role.AUDITOR);
                default -> { } // an identity provider's other roles are none of Bulwark's business
            }
        }
        if (granted.contains(Role.OPERATOR)) {
            return Role.OPERATOR;
        }
        if (granted.contains(Role.AUDITOR) && granted.size() > 1) {
            throw new JwtValidationException(Reason.INVALID_CLAIM, "token grants auditor together with another"
                    + " role; a principal has one role");
        }
        if (granted.contains(Role.AUDITOR)) {
            return Role.AUDITOR;
        }
        return granted.contains(Role.TENANT_ADMIN) ? Role.TENANT_ADMIN : Role.MEMBER;
    }

    private static Set<String> scopes(JWTClaimsSet claims) {
        Set<String> scopes = new LinkedHashSet<>();
        for (String name : List.of("scope", "scp")) {
            Object value = claims.getClaim(name);
            if (value instanceof String s && !s.isBlank()) {
                scopes.addAll(List.of(s.trim().split("\\s+")));
            } else if (value instanceof List<?> list) {
                list.stream().filter(String.class::isInstance).map(String.class::cast).forEach(scopes::add);
            }
        }
        return scopes;
    }

    /** The claim of that name, else the value at that dotted path through nested objects; null when absent. */
    static Object claim(JWTClaimsSet claims, String name) {
        Object value = claims.getClaim(name);
        if (value != null || name.indexOf('.') < 0) {
            return value;
        }
        Object current = claims.getClaims();
        for (String part : name.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = map.get(part);
        }
        return current;
    }

    private static JWKSource<SecurityContext> keySource(JwksSource source, Clock clock) {
        if (source instanceof JwksSource.File file) {
            return new FileJwkSource(file.path(), file.recheck(), clock);
        }
        JwksSource.Url url = (JwksSource.Url) source;
        int timeoutMs = (int) url.httpTimeout().toMillis();
        DefaultResourceRetriever retriever = new DefaultResourceRetriever(timeoutMs, timeoutMs,
                JWKSourceBuilder.DEFAULT_HTTP_SIZE_LIMIT, true, url.sslSocketFactory());
        long ttlMs = url.cacheTtl().toMillis();
        try {
            return JWKSourceBuilder.<SecurityContext>create(url.uri().toURL(), retriever)
                    .cache(ttlMs, 2L * timeoutMs + 1_000)
                    .rateLimited(Math.min(JWKSourceBuilder.DEFAULT_RATE_LIMIT_MIN_INTERVAL, ttlMs / 2))
                    .retrying(true)
                    .build();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("the JWKS URL " + url.uri() + " cannot be used: " + e.getMessage(), e);
        }
    }
}
