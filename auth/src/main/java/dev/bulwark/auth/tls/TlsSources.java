package dev.bulwark.auth.tls;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The configured TLS files of a listener: a key and certificate chain, trusted CAs (for mTLS), or both.
 *
 * @param key   the private key and certificate chain, or null (a client that only verifies servers)
 * @param trust the trusted CA certificates, or null (no client certificates are verified)
 */
public record TlsSources(KeySource key, TrustSource trust) {

    public TlsSources {
        if (key == null && trust == null) {
            throw new IllegalArgumentException("TLS needs a key and certificate, trusted certificates, or both");
        }
    }

    /** Reads the files now. */
    public TlsMaterial load() {
        return TlsMaterial.load(key, trust);
    }

    /** Every file read by {@link #load()}, without repetition. */
    public List<Path> files() {
        List<Path> files = new ArrayList<>();
        if (key != null) {
            files.addAll(key.files());
        }
        if (trust != null) {
            for (Path p : trust.files()) {
                if (!files.contains(p)) {
                    files.add(p);
                }
            }
        }
        return List.copyOf(files);
    }
}
