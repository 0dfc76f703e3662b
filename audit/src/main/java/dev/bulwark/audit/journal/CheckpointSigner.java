package dev.bulwark.audit.journal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.text.ParseException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The key that signs the journal's checkpoints: an ES256 (P-256) key pair made on first use. The private key is kept
 * in {@code signing-key}, sealed under the broker's own key like every other secret of the data directory; the public
 * key is written in the clear to {@code signing-keys.jwks}, for auditors and the offline verifier, and served by the
 * REST API.
 *
 * <p>Design note: ES256 rather than Ed25519, because Nimbus signs Ed25519 only through Google Tink, a dependency as
 * large as the rest of the audit module, while ES256 runs on the JDK's own providers.
 */
public final class CheckpointSigner {

    static final String PRIVATE_KEY_FILE = "signing-key";
    public static final String PUBLIC_KEYS_FILE = "signing-keys.jwks";
    private static final int FILE_MAGIC = 0x4257534B; // "BWSK"
    private static final byte FILE_VERSION = 1;

    private final ECKey key;
    private final ECDSASigner signer;

    private CheckpointSigner(ECKey key) throws JOSEException {
        this.key = key;
        this.signer = new ECDSASigner(key);
    }

    /**
     * The signing key of {@code directory}, made (and its public key published) when there is none.
     *
     * @throws IOException when the sealed key does not open or is not an EC key
     */
    public static CheckpointSigner openOrCreate(Path directory, SealedFiles sealedFiles) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(PRIVATE_KEY_FILE);
        try {
            Optional<ByteBuffer> stored = sealedFiles.read(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM,
                    PRIVATE_KEY_FILE);
            ECKey key;
            if (stored.isPresent()) {
                key = ECKey.parse(StandardCharsets.UTF_8.decode(stored.get()).toString());
            } else {
                key = new ECKeyGenerator(Curve.P_256).keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.ES256)
                        .keyIDFromThumbprint(true).generate();
                sealedFiles.write(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, PRIVATE_KEY_FILE,
                        key.toJSONString().getBytes(StandardCharsets.UTF_8));
            }
            CheckpointSigner signer = new CheckpointSigner(key);
            signer.publish(directory.resolve(PUBLIC_KEYS_FILE));
            return signer;
        } catch (ParseException | JOSEException e) {
            throw new IOException(file + " does not hold an EC signing key: " + e.getMessage(), e);
        }
    }

    public String keyId() {
        return key.getKeyID();
    }

    /** The public keys checkpoints are verified with. */
    public JWKSet publicKeys() {
        return new JWKSet(key.toPublicJWK());
    }

    String sign(Checkpoint checkpoint) {
        JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(),
                new Payload(checkpoint.claims()));
        try {
            jws.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("an ES256 signature failed", e);
        }
        return jws.serialize();
    }

    /** Reads the public keys an auditor was given (a JWKS file). */
    public static JWKSet readPublicKeys(Path file) throws IOException {
        try {
            JWKSet keys = JWKSet.load(file.toFile());
            for (JWK key : keys.getKeys()) {
                if (key.isPrivate()) {
                    throw new IOException(file + " holds a private key: give the verifier public keys only");
                }
            }
            return keys;
        } catch (ParseException e) {
            throw new IOException(file + " is not a JWKS: " + e.getMessage(), e);
        }
    }

    private void publish(Path file) throws IOException {
        byte[] json = publicKeys().toString(true).getBytes(StandardCharsets.UTF_8);
        if (Files.exists(file) && Arrays.equals(Files.readAllBytes(file), json)) {
            return;
        }
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(temporary, json, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        MetadataFile.syncDirectory(file.getParent());
    }
}
