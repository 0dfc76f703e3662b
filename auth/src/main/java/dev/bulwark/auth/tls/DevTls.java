package dev.bulwark.auth.tls;

import java.nio.file.Path;

/**
 * The development TLS files a {@link DevCertificateAuthority} keeps in a directory.
 *
 * @param caCertificate     {@code ca.pem}: what clients trust
 * @param serverCertificate {@code server.pem}: the server certificate, then the CA's
 * @param serverKey         {@code server-key.pem}
 * @param caCreated         whether this start created the CA (clients must be told to trust it)
 * @param serverIssued      whether this start issued a new server certificate
 */
public record DevTls(Path caCertificate, Path serverCertificate, Path serverKey, boolean caCreated,
                     boolean serverIssued) {

    /** The server's key and certificate chain. */
    public KeySource keySource() {
        return new KeySource.Pem(serverCertificate, serverKey);
    }

    /** The dev CA as a trust anchor: for mTLS, client certificates it issued. */
    public TrustSource caTrustSource() {
        return new TrustSource.Pem(caCertificate);
    }

    /** What to print at start, so a newcomer's client trusts the server in one step. */
    public String clientHint() {
        Path ca = caCertificate.toAbsolutePath();
        return "TLS uses a development CA" + (caCreated ? " created now" : "") + ": " + ca
                + ". Clients trust it with ssl.truststore.type=PEM and ssl.truststore.location=" + ca
                + " (kcat/librdkafka: ssl.ca.location=" + ca + "). Configure your own certificates for anything"
                + " but development.";
    }
}
