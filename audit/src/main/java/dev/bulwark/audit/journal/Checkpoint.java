package dev.bulwark.audit.journal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.Base64URL;

import java.text.ParseException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A signed statement that the journal's entry {@code seq} has hash {@code hash}: since every entry's hash commits to
 * all before it, the signature covers the whole journal up to {@code seq}. Stored as a compact JWS (ES256) whose
 * payload is {@code {"seq": n, "hash": "<base64url SHA-256>", "time": <epoch ms>}}, signed by the key {@code kid}
 * names.
 */
public record Checkpoint(long seq, byte[] hash, long timeMs, String keyId) {

    public Checkpoint {
        hash = hash.clone();
    }

    @Override
    public byte[] hash() {
        return hash.clone();
    }

    Map<String, Object> claims() {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("seq", seq);
        claims.put("hash", Base64URL.encode(hash).toString());
        claims.put("time", timeMs);
        return claims;
    }

    boolean covers(long entrySeq, byte[] entryHash) {
        return seq == entrySeq && Arrays.equals(hash, entryHash);
    }

    /** A signed checkpoint that does not verify: malformed, signed by an unknown key, or its signature is wrong. */
    public static final class BadCheckpointException extends Exception {
        BadCheckpointException(String message) {
            super(message);
        }
    }

    /**
     * Parses and verifies a compact JWS against {@code keys}.
     *
     * @throws BadCheckpointException saying what is wrong with it
     */
    public static Checkpoint verify(String compact, JWKSet keys) throws BadCheckpointException {
        JWSObject jws;
        try {
            jws = JWSObject.parse(compact);
        } catch (ParseException e) {
            throw new BadCheckpointException("not a compact JWS: " + e.getMessage());
        }
        if (!JWSAlgorithm.ES256.equals(jws.getHeader().getAlgorithm())) {
            throw new BadCheckpointException("signed with " + jws.getHeader().getAlgorithm() + ", not ES256");
        }
        String kid = jws.getHeader().getKeyID();
        JWK key = kid == null ? null : keys.getKeyByKeyId(kid);
        if (!(key instanceof ECKey ec)) {
            throw new BadCheckpointException("signed by key " + kid + ", which is not among the public keys");
        }
        try {
            if (!jws.verify(new ECDSAVerifier(ec.toPublicJWK()))) {
                throw new BadCheckpointException("its signature does not verify under key " + kid);
            }
        } catch (JOSEException e) {
            throw new BadCheckpointException("its signature cannot be checked: " + e.getMessage());
        }
        Map<String, Object> claims = jws.getPayload().toJSONObject();
        if (claims == null || !(claims.get("seq") instanceof Number seq) || !(claims.get("hash") instanceof String hash)
                || !(claims.get("time") instanceof Number time)) {
            throw new BadCheckpointException("its payload is not {\"seq\", \"hash\", \"time\"}");
        }
        byte[] decoded = new Base64URL(hash).decode();
        if (decoded.length != JournalFormat.HASH_LENGTH) {
            throw new BadCheckpointException("its hash is not a SHA-256");
        }
        return new Checkpoint(seq.longValue(), decoded, time.longValue(), kid);
    }
}
