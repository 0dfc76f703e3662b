package dev.bulwark.auth.jwt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

/** Signing keys and tokens made for the tests; shared with the gateway's integration tests through the test jar. */
public final class TestTokens {

    public static final String ISSUER = "https://idp.test/realms/bulwark";
    public static final String AUDIENCE = "bulwark";

    private TestTokens() {
    }

    public static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JWK Set file of the public halves of {@code keys}. */
    public static Path jwksFile(Path file, JWK... keys) throws IOException {
        Files.writeString(file, jwks(keys));
        return file;
    }

    public static String jwks(JWK... keys) {
        return new JWKSet(List.of(keys)).toPublicJWKSet().toString();
    }

    /** Claims that pass every check at {@code now}: alice of acme, tenant-admin, valid for ten minutes. */
    public static JWTClaimsSet.Builder claims(Instant now) {
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(List.of(AUDIENCE, "other-service"))
                .subject("alice")
                .claim("tenant", "acme")
                .claim("roles", List.of("offline_access", "tenant-admin"))
                .claim("scope", "kafka.produce kafka.consume")
                .jwtID("jti-1")
                .issueTime(Date.from(now.minusSeconds(60)))
                .notBeforeTime(Date.from(now.minusSeconds(60)))
                .expirationTime(Date.from(now.plusSeconds(600)));
    }

    /**
     * Claims that pass every check from {@code now} for ten minutes: {@code sub} {@code user}, {@code tenant} (left
     * out when null), {@code roles}.
     */
    public static JWTClaimsSet.Builder claims(Instant now, String user, String tenant, String... roles) {
        return claims(now).audience(AUDIENCE).subject(user).claim("tenant", tenant).claim("roles", List.of(roles));
    }

    /** Signed with RS256 (an RSA key) or ES256 (an EC key). */
    public static String sign(JWK key, JWTClaimsSet claims) {
        return sign(key, key instanceof RSAKey ? JWSAlgorithm.RS256 : JWSAlgorithm.ES256, claims);
    }

    public static String sign(JWK key, JWSAlgorithm algorithm, JWTClaimsSet claims) {
        return sign(key, new JWSHeader.Builder(algorithm).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(),
                claims);
    }

    public static String sign(JWK key, JWSHeader header, JWTClaimsSet claims) {
        try {
            JWSSigner signer = key instanceof RSAKey r ? new RSASSASigner(r) : new ECDSASigner((ECKey) key);
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
