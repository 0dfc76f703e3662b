package dev.bulwark.auth.store;

import dev.bulwark.storage.crypto.CryptoProvider;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFinalMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFirstMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ServerFirstMessage;

import javax.crypto.Mac;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * The functions of SCRAM (RFC 5802, section 3) for one mechanism, all from one {@link CryptoProvider}: Hi (PBKDF2 with
 * the mechanism's HMAC, from the provider's key factory), HMAC, H, the keys and signatures built from them, and the
 * random nonces and salts.
 *
 * <p>Design note: Kafka's {@code ScramFormatter} computes the same values, but from whichever providers the JVM lists
 * first, so in FIPS mode the JDK would silently serve what Bouncy Castle's module refuses; Kafka's message classes
 * and its AuthMessage layout are used as they are. Salts and nonces keep Kafka's form (a random 130-bit number in
 * base 36), so clients see nothing different.
 *
 * <p>Thread-safe: each call takes its own {@link Mac}.
 */
public final class ScramFunctions {

    private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.UTF_8);
    private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.UTF_8);

    private final ScramMechanism mechanism;
    private final CryptoProvider crypto;
    private final SecureRandom random;
    private final int hashLength;

    public ScramFunctions(ScramMechanism mechanism, CryptoProvider crypto) {
        this.mechanism = mechanism;
        this.crypto = crypto;
        this.random = crypto.secureRandom();
        try {
            // All three looked up now, so that a provider lacking one fails at start, not at the first login.
            this.hashLength = crypto.messageDigest(mechanism.hashAlgorithm()).getDigestLength();
            crypto.mac(mechanism.macAlgorithm());
            crypto.secretKeyFactory(pbkdf2());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(mechanism.mechanismName() + " is unavailable from " + crypto, e);
        }
    }

    public ScramMechanism mechanism() {
        return mechanism;
    }

    /** The length of the mechanism's hash, and so of salted passwords, keys and signatures. */
    public int hashLength() {
        return hashLength;
    }

    /**
     * Checks that a password can be derived: not empty, and in FIPS mode at least 14 bytes of UTF-8 (the shortest
     * PBKDF2 password FIPS 140 approves).
     *
     * @throws UnacceptableCredentialException when it cannot
     */
    public void checkPassword(String password) {
        int minimum = crypto.minimumSecretBytes();
        if (password == null || password.getBytes(StandardCharsets.UTF_8).length < minimum) {
            throw new UnacceptableCredentialException(minimum <= 1 ? "The password must not be empty"
                    : "In FIPS mode a password must have at least " + minimum + " bytes (112 bits)");
        }
    }

    /**
     * Checks that a salt can be used to derive a password: not empty, and in FIPS mode at least 16 bytes (the
     * shortest PBKDF2 salt FIPS 140 approves).
     *
     * @throws UnacceptableCredentialException when it cannot
     */
    public void checkSalt(byte[] salt) {
        int minimum = crypto.minimumSaltBytes();
        if (salt == null || salt.length < minimum) {
            throw new UnacceptableCredentialException(minimum <= 1 ? "The salt must not be empty"
                    : "In FIPS mode a salt must have at least " + minimum + " bytes (128 bits)");
        }
    }

    /**
     * SaltedPassword := Hi(Normalize(password), salt, i), the password taken as UTF-8 as Kafka does.
     *
     * @throws UnacceptableCredentialException when {@link #checkPassword} or {@link #checkSalt} refuses
     */
    public byte[] saltedPassword(String password, byte[] salt, int iterations) {
        checkPassword(password);
        checkSalt(salt);
        PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, hashLength * Byte.SIZE);
        try {
            return crypto.secretKeyFactory(pbkdf2()).generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(pbkdf2() + " failed", e);
        } finally {
            spec.clearPassword();
        }
    }

    /** ClientKey := HMAC(SaltedPassword, "Client Key"). */
    public byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY);
    }

    /** ServerKey := HMAC(SaltedPassword, "Server Key"). */
    public byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY);
    }

    /** StoredKey := H(ClientKey). */
    public byte[] storedKey(byte[] clientKey) {
        try {
            return crypto.messageDigest(mechanism.hashAlgorithm()).digest(clientKey);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(mechanism.hashAlgorithm() + " is unavailable", e);
        }
    }

    /** The stored key a client's proof stands for: H(ClientSignature XOR ClientProof). */
    public byte[] storedKey(byte[] clientSignature, byte[] clientProof) {
        if (clientSignature.length != clientProof.length) {
            throw new IllegalArgumentException("a " + mechanism.mechanismName() + " proof has " + hashLength
                    + " bytes, not " + clientProof.length);
        }
        byte[] xor = new byte[clientSignature.length];
        for (int i = 0; i < xor.length; i++) {
            xor[i] = (byte) (clientSignature[i] ^ clientProof[i]);
        }
        return storedKey(xor);
    }

    /** ClientSignature := HMAC(StoredKey, AuthMessage). */
    public byte[] clientSignature(byte[] storedKey, ClientFirstMessage clientFirst, ServerFirstMessage serverFirst,
                                  ClientFinalMessage clientFinal) {
        return hmac(storedKey, authMessage(clientFirst, serverFirst, clientFinal));
    }

    /** ServerSignature := HMAC(ServerKey, AuthMessage). */
    public byte[] serverSignature(byte[] serverKey, ClientFirstMessage clientFirst, ServerFirstMessage serverFirst,
                                  ClientFinalMessage clientFinal) {
        return hmac(serverKey, authMessage(clientFirst, serverFirst, clientFinal));
    }

    /** The stored credential of a salted password. */
    public ScramCredential credential(byte[] salt, byte[] saltedPassword, int iterations) {
        return new ScramCredential(salt, storedKey(clientKey(saltedPassword)), serverKey(saltedPassword), iterations);
    }

    /**
     * The stored credential of a password, under a fresh salt.
     *
     * @throws UnacceptableCredentialException when {@link #checkPassword} refuses the password
     */
    public ScramCredential credential(String password, int iterations) {
        byte[] salt = nonce().getBytes(StandardCharsets.US_ASCII);
        return credential(salt, saltedPassword(password, salt, iterations), iterations);
    }

    /** A random 130-bit number in base 36: the server's part of the nonce, and the salt of a new credential. */
    public String nonce() {
        return new BigInteger(130, random).toString(Character.MAX_RADIX);
    }

    private byte[] hmac(byte[] key, byte[] message) {
        try {
            Mac mac = crypto.mac(mechanism.macAlgorithm());
            mac.init(new SecretKeySpec(key, mechanism.macAlgorithm()));
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(mechanism.macAlgorithm() + " refused a key of " + key.length + " bytes", e);
        }
    }

    private static byte[] authMessage(ClientFirstMessage clientFirst, ServerFirstMessage serverFirst,
                                      ClientFinalMessage clientFinal) {
        return ScramFormatter.authMessage(clientFirst.clientFirstMessageBare(),
                new String(serverFirst.toBytes(), StandardCharsets.UTF_8), clientFinal.clientFinalMessageWithoutProof())
                .getBytes(StandardCharsets.UTF_8);
    }

    private String pbkdf2() {
        return "PBKDF2With" + mechanism.macAlgorithm();
    }
}
