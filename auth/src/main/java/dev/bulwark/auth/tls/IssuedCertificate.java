package dev.bulwark.auth.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A key and the certificate chain a {@link DevCertificateAuthority} issued for it (the certificate first, then the
 * CA's).
 */
public record IssuedCertificate(PrivateKey privateKey, List<X509Certificate> chain) {

    public IssuedCertificate {
        chain = List.copyOf(chain);
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }

    /**
     * Writes the chain and the key (unencrypted PKCS#8, owner-only) as PEM files, each replaced atomically.
     *
     * @return the source that reads them back
     */
    public KeySource.Pem writePem(Path certificateFile, Path keyFile) throws IOException {
        PemFiles.writeAtomically(keyFile, PemFiles.toPem(privateKey), true);
        PemFiles.writeAtomically(certificateFile, PemFiles.toPem(chain), false);
        return new KeySource.Pem(certificateFile, keyFile);
    }

    @Override
    public String toString() {
        return "IssuedCertificate[" + certificate().getSubjectX500Principal().getName() + "]";
    }
}
