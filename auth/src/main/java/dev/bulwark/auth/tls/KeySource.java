package dev.bulwark.auth.tls;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** Where a server's (or a client's) private key and certificate chain come from. */
public sealed interface KeySource {

    /** The files this source reads, watched by {@link CertificateReloader}. */
    List<Path> files();

    /**
     * A certificate chain and a private key in PEM files (they may be the same file).
     *
     * @param certificateChain PEM certificates, the end-entity certificate first, then its intermediates
     * @param privateKey       a PEM private key: PKCS#8 ({@code PRIVATE KEY}), PKCS#8 encrypted ({@code ENCRYPTED
     *                         PRIVATE KEY}), PKCS#1 RSA or SEC1 EC ({@code RSA/EC PRIVATE KEY}, also OpenSSL's
     *                         legacy encrypted form)
     * @param password         the password of an encrypted key, or null
     */
    record Pem(Path certificateChain, Path privateKey, String password) implements KeySource {
        public Pem {
            Objects.requireNonNull(certificateChain, "certificateChain");
            Objects.requireNonNull(privateKey, "privateKey");
        }

        public Pem(Path certificateChain, Path privateKey) {
            this(certificateChain, privateKey, null);
        }

        @Override
        public List<Path> files() {
            return certificateChain.equals(privateKey) ? List.of(certificateChain)
                    : List.of(certificateChain, privateKey);
        }

        @Override
        public String toString() {
            return "Pem[certificateChain=" + certificateChain + ", privateKey=" + privateKey
                    + (password == null ? "" : ", password=***") + "]";
        }
    }

    /**
     * A PKCS12 key store holding the private key and its certificate chain.
     *
     * @param file          the PKCS12 file
     * @param password      the store's password
     * @param keyPassword   the key entry's password when it differs from the store's, or null
     * @param alias         the key entry to use, or null when the store holds exactly one
     */
    record Pkcs12(Path file, String password, String keyPassword, String alias) implements KeySource {
        public Pkcs12 {
            Objects.requireNonNull(file, "file");
        }

        public Pkcs12(Path file, String password) {
            this(file, password, null, null);
        }

        @Override
        public List<Path> files() {
            return List.of(file);
        }

        @Override
        public String toString() {
            return "Pkcs12[file=" + file + (password == null ? "" : ", password=***")
                    + (keyPassword == null ? "" : ", keyPassword=***")
                    + (alias == null ? "" : ", alias=" + alias) + "]";
        }
    }
}
