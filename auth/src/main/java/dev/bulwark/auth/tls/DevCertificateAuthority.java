package dev.bulwark.auth.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A certificate authority for development, kept in a directory (by default {@code $BULWARK_DATA_DIR/tls}), so that a
 * TLS listener works on first start with nothing configured and a client needs only to trust {@code ca.pem}.
 *
 * <pre>
 * ca.pem           the CA's self-signed certificate (EC P-256, 10 years): what clients trust
 * ca-key.pem       the CA's private key, PKCS#8, owner-only (0600)
 * server.pem       the server certificate (EC P-256, 1 year; SANs localhost, 127.0.0.1, ::1 and the advertised
 *                  host), then the CA certificate
 * server-key.pem   the server's private key, PKCS#8, owner-only (0600)
 * </pre>
 *
 * Files are reused from start to start. The server certificate is issued again when it is missing or unreadable, was
 * not signed by this CA, lacks a requested host name, or expires within 30 days. A CA that expires within 30 days is
 * replaced (clients must then trust the new {@code ca.pem}).
 *
 * <p>Design note: each key is written before its certificate, and each file is replaced atomically, so the certificate
 * marks a finished pair. A CA key without {@code ca.pem} is the trace of an interrupted first start (nobody can trust
 * a CA whose certificate never existed) and is replaced; {@code ca.pem} without its key is an error, since clients
 * may trust it and a new CA would silently break them.
 *
 * <p>Not for production: anyone who reads {@code ca-key.pem} can issue certificates the listener trusts for mTLS.
 */
public final class DevCertificateAuthority {

    public static final String CA_CERTIFICATE = "ca.pem";
    public static final String CA_KEY = "ca-key.pem";
    public static final String SERVER_CERTIFICATE = "server.pem";
    public static final String SERVER_KEY = "server-key.pem";

    public static final Duration CA_VALIDITY = Duration.ofDays(3650);
    public static final Duration SERVER_VALIDITY = Duration.ofDays(365);
    /** A certificate that expires sooner than this is issued again. */
    public static final Duration RENEW_BEFORE = Duration.ofDays(30);
    /** Certificates start to be valid this long before they are issued, for peers whose clocks lag. */
    static final Duration BACKDATE = Duration.ofHours(1);

    /** The names every server certificate carries. */
    public static final List<String> LOCAL_HOSTS = List.of("localhost", "127.0.0.1", "::1");

    private static final Logger LOG = LoggerFactory.getLogger(DevCertificateAuthority.class);
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final int SAN_DNS = 2;
    private static final int SAN_IP = 7;

    private final Path directory;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final PrivateKey caKey;
    private final X509Certificate caCertificate;
    private final boolean created;

    private DevCertificateAuthority(Path directory, Clock clock, PrivateKey caKey, X509Certificate caCertificate,
                                    boolean created) {
        this.directory = directory;
        this.clock = clock;
        this.caKey = caKey;
        this.caCertificate = caCertificate;
        this.created = created;
    }

    /**
     * The CA and a current server certificate for {@code extraHost} in {@code directory}, created or renewed as
     * needed.
     *
     * @param extraHost a host name or IP address clients connect to besides the local ones (the advertised host), or
     *                  null
     */
    public static DevTls ensure(Path directory, String extraHost, Clock clock) throws IOException {
        return openOrCreate(directory, clock).ensureServerCertificate(extraHost);
    }

    /** Opens the CA kept in {@code directory}, creating it (and the directory, owner-only) when there is none. */
    public static DevCertificateAuthority openOrCreate(Path directory, Clock clock) throws IOException {
        createPrivateDirectory(directory);
        Path certFile = directory.resolve(CA_CERTIFICATE);
        Path keyFile = directory.resolve(CA_KEY);
        boolean certExists = Files.exists(certFile);
        boolean keyExists = Files.exists(keyFile);
        if (certExists && !keyExists) {
            throw new TlsMaterialException(certFile + " exists without its key " + CA_KEY + ", so the development CA"
                    + " cannot issue certificates; remove " + certFile + " to start a new CA (clients must then"
                    + " trust the new one)");
        }
        if (certExists) {
            X509Certificate cert = PemFiles.readCertificates(certFile).get(0);
            PrivateKey key = PemFiles.readPrivateKey(keyFile, null);
            TlsMaterial.requireMatch(keyFile + " and " + certFile, key, cert.getPublicKey());
            warnIfReadableByOthers(keyFile);
            Instant renewAt = cert.getNotAfter().toInstant().minus(RENEW_BEFORE);
            if (clock.instant().isBefore(renewAt)) {
                return new DevCertificateAuthority(directory, clock, key, cert, false);
            }
            LOG.warn("The development CA {} expires on {}; creating a new one, which clients must trust instead",
                    certFile, cert.getNotAfter().toInstant());
        }
        return create(directory, clock);
    }

    private static DevCertificateAuthority create(Path directory, Clock clock) throws IOException {
        KeyPair pair = newKeyPair();
        SecureRandom random = new SecureRandom();
        byte[] suffix = new byte[4];
        random.nextBytes(suffix);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "Bulwark")
                .addRDN(BCStyle.CN, "Bulwark development CA " + HexFormat.of().formatHex(suffix))
                .build();
        Instant now = clock.instant();
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(random),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(pair.getPublic()));
            X509Certificate cert = sign(builder, pair.getPrivate());
            PemFiles.writeAtomically(directory.resolve(CA_KEY), PemFiles.toPem(pair.getPrivate()), true);
            PemFiles.writeAtomically(directory.resolve(CA_CERTIFICATE), PemFiles.toPem(List.of(cert)), false);
            LOG.info("Created a development CA: {}", directory.resolve(CA_CERTIFICATE).toAbsolutePath());
            return new DevCertificateAuthority(directory, clock, pair.getPrivate(), cert, true);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot create the development CA", e);
        }
    }

    /**
     * A server certificate for the local names and {@code extraHost}: the one kept in the directory when it is still
     * good, else a new one.
     */
    public DevTls ensureServerCertificate(String extraHost) throws IOException {
        Set<String> hosts = requestedHosts(extraHost);
        Path certFile = directory.resolve(SERVER_CERTIFICATE);
        Path keyFile = directory.resolve(SERVER_KEY);
        String why = reasonToReissue(certFile, keyFile, hosts);
        if (why != null) {
            LOG.info("Issuing a development server certificate for {} ({})", hosts, why);
            KeyPair pair = newKeyPair();
            List<GeneralName> names = new ArrayList<>();
            for (String host : hosts) {
                names.add(isIpLiteral(host) ? new GeneralName(GeneralName.iPAddress, host)
                        : new GeneralName(GeneralName.dNSName, host));
            }
            String commonName = hosts.size() > LOCAL_HOSTS.size() ? List.copyOf(hosts).get(LOCAL_HOSTS.size())
                    : "localhost";
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
            X509Certificate cert = issue(pair.getPublic(), subject, KeyPurposeId.id_kp_serverAuth, names,
                    SERVER_VALIDITY);
            new IssuedCertificate(pair.getPrivate(), List.of(cert, caCertificate)).writePem(certFile, keyFile);
        } else {
            warnIfReadableByOthers(keyFile);
        }
        return new DevTls(directory.resolve(CA_CERTIFICATE), certFile, keyFile, created, why != null);
    }

    /** A client certificate ({@code CN=commonName}, 1 year) for mTLS, signed by this CA. Nothing is written. */
    public IssuedCertificate issueClientCertificate(String commonName) {
        return issueClientCertificate(new X500Principal(
                new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build().toString()),
                SERVER_VALIDITY);
    }

    /** A client certificate for any subject (say {@code CN=alice,OU=acme}) for mTLS, signed by this CA. */
    public IssuedCertificate issueClientCertificate(X500Principal subject, Duration validity) {
        KeyPair pair = newKeyPair();
        X509Certificate cert = issue(pair.getPublic(), X500Name.getInstance(subject.getEncoded()),
                KeyPurposeId.id_kp_clientAuth, List.of(), validity);
        return new IssuedCertificate(pair.getPrivate(), List.of(cert, caCertificate));
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    public Path caCertificateFile() {
        return directory.resolve(CA_CERTIFICATE);
    }

    /** Whether opening created this CA (rather than finding it). */
    public boolean created() {
        return created;
    }

    /** Signs an end-entity certificate for {@code publicKey}; the tests also use it for RSA keys. */
    X509Certificate issue(PublicKey publicKey, X500Name subject, KeyPurposeId purpose, List<GeneralName> names,
                          Duration validity) {
        Instant now = clock.instant();
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(caCertificate.getSubjectX500Principal().getEncoded()), serial(random),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(validity)), subject, publicKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature
                            | (publicKey.getAlgorithm().equals("RSA") ? KeyUsage.keyEncipherment : 0)))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(publicKey))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(caCertificate));
            if (!names.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            return sign(builder, caKey);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot issue a certificate for " + subject, e);
        }
    }

    /** Why the kept server certificate cannot serve, or null when it can. */
    private String reasonToReissue(Path certFile, Path keyFile, Set<String> hosts) {
        if (!Files.exists(certFile) || !Files.exists(keyFile)) {
            return "none yet";
        }
        X509Certificate cert;
        try {
            List<X509Certificate> chain = PemFiles.readCertificates(certFile);
            cert = chain.get(0);
            PrivateKey key = PemFiles.readPrivateKey(keyFile, null);
            TlsMaterial.requireMatch(keyFile.toString(), key, cert.getPublicKey());
        } catch (TlsMaterialException e) {
            return "the kept one is unusable: " + e.getMessage();
        }
        try {
            cert.verify(caCertificate.getPublicKey());
        } catch (GeneralSecurityException e) {
            return "the kept one was not issued by this CA";
        }
        if (!clock.instant().isBefore(cert.getNotAfter().toInstant().minus(RENEW_BEFORE))) {
            return "the kept one expires on " + cert.getNotAfter().toInstant();
        }
        Set<String> present = subjectAlternativeNames(cert);
        for (String host : hosts) {
            if (!present.contains(host)) {
                return "the kept one does not name " + host;
            }
        }
        return null;
    }

    /** The local names, then the extra host (if any, and not among them), normalized. */
    private static Set<String> requestedHosts(String extraHost) {
        Set<String> hosts = new LinkedHashSet<>();
        for (String h : LOCAL_HOSTS) {
            hosts.add(normalize(h));
        }
        if (extraHost != null && !extraHost.isBlank()) {
            String host = extraHost.trim();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (isIpLiteral(host)) {
                if (!address(host).isAnyLocalAddress()) { // 0.0.0.0 / :: are bind addresses, not names to verify
                    hosts.add(normalize(host));
                }
            } else {
                hosts.add(normalize(host));
            }
        }
        return hosts;
    }

    private static Set<String> subjectAlternativeNames(X509Certificate cert) {
        Set<String> names = new LinkedHashSet<>();
        try {
            if (cert.getSubjectAlternativeNames() == null) {
                return names;
            }
            for (List<?> entry : cert.getSubjectAlternativeNames()) {
                int type = (Integer) entry.get(0);
                if (type == SAN_DNS || type == SAN_IP) {
                    names.add(normalize((String) entry.get(1)));
                }
            }
        } catch (CertificateParsingException e) {
            return names;
        }
        return names;
    }

    /** Host names in lower case; IP addresses in the JDK's canonical text form (so {@code ::1} is one name). */
    private static String normalize(String host) {
        return isIpLiteral(host) ? address(host).getHostAddress() : host.toLowerCase(Locale.ROOT);
    }

    static boolean isIpLiteral(String host) {
        return IPV4.matcher(host).matches() || host.indexOf(':') >= 0;
    }

    /** The address of an IP literal; never a name lookup, since {@link #isIpLiteral} holds. */
    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + literal + "' is not a valid IP address", e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).setBit(126); // positive, 16 bytes, never zero
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot generate EC P-256 keys", e);
        }
    }

    private static void createPrivateDirectory(Path directory) throws IOException {
        if (Files.isDirectory(directory)) {
            return;
        }
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createDirectories(directory.toAbsolutePath().getParent());
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        } else {
            Files.createDirectories(directory);
        }
    }

    private static void warnIfReadableByOthers(Path keyFile) {
        try {
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(keyFile);
                if (permissions.contains(PosixFilePermission.GROUP_READ)
                        || permissions.contains(PosixFilePermission.OTHERS_READ)) {
                    LOG.warn("{} is readable by others ({}); it should be owner-only (chmod 600)", keyFile,
                            PosixFilePermissions.toString(permissions));
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot read the permissions of {}: {}", keyFile, e.toString());
        }
    }
}
