package dev.bulwark.auth.tls;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** Where the trusted CA certificates come from: the CAs that sign client certificates (mTLS) or a server's. */
public sealed interface TrustSource {

    /** The files this source reads, watched by {@link CertificateReloader}. */
    List<Path> files();

    /** One or more PEM certificates ({@code -----BEGIN CERTIFICATE-----}) in one file. */
    record Pem(Path certificates) implements TrustSource {
        public Pem {
            Objects.requireNonNull(certificates, "certificates");
        }

        @Override
        public List<Path> files() {
            return List.of(certificates);
        }
    }

    /**
     * The certificates of a PKCS12 store: its trusted-certificate entries (keytool) and its certificate bags without
     * a key (OpenSSL's {@code pkcs12 -export -nokeys}).
     */
    record Pkcs12(Path file, String password) implements TrustSource {
        public Pkcs12 {
            Objects.requireNonNull(file, "file");
        }

        @Override
        public List<Path> files() {
            return List.of(file);
        }

        @Override
        public String toString() {
            return "Pkcs12[file=" + file + (password == null ? "" : ", password=***") + "]";
        }
    }
}
