package dev.bulwark.auth.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * A listener's TLS material, read once and immutable: the private key with its certificate chain, and the trusted CA
 * certificates that verify client certificates (mTLS). {@link CertificateReloader} builds a new one when the files
 * change.
 *
 * <p>The gateway hands the managers to Vert.x:
 *
 * <pre>{@code
 * NetServerOptions options = new NetServerOptions()
 *     .setSsl(true)
 *     .setKeyCertOptions(KeyCertOptions.wrap(material.keyManager().orElseThrow()))
 *     .setEnabledSecureTransportProtocols(new LinkedHashSet<>(TlsMaterial.PROTOCOLS))
 *     .setClientAuth(io.vertx.core.http.ClientAuth.REQUIRED);            // or REQUEST / NONE
 * material.trustManager().ifPresent(tm -> options.setTrustOptions(TrustOptions.wrap(tm)));
 * TlsMaterial.CIPHER_SUITES.forEach(options::addEnabledCipherSuite);
 * }</pre>
 *
 * A JDK {@link SSLContext} (tests, an HTTPS client) comes from {@link #sslContext()} and {@link #serverParameters}.
 */
public final class TlsMaterial {

    /** TLS 1.3 and 1.2 only: TLS 1.0 and 1.1 are refused in the handshake. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /**
     * AEAD suites only, strongest first: TLS 1.3's, then TLS 1.2's ECDHE (forward secrecy) with AES-GCM or
     * ChaCha20-Poly1305. No CBC, no static RSA key exchange, no SHA-1 MACs.
     */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private static final String KEY_ALIAS = "bulwark";

    private final List<X509Certificate> certificateChain;
    private final X509KeyManager keyManager;
    private final List<X509Certificate> trustedCertificates;
    private final X509TrustManager trustManager;

    private TlsMaterial(List<X509Certificate> certificateChain, X509KeyManager keyManager,
                        List<X509Certificate> trustedCertificates, X509TrustManager trustManager) {
        this.certificateChain = certificateChain;
        this.keyManager = keyManager;
        this.trustedCertificates = trustedCertificates;
        this.trustManager = trustManager;
    }

    /**
     * Reads the key and certificate chain, the trusted certificates, or both.
     *
     * @param key   the key and certificate chain, or null (a client that presents no certificate)
     * @param trust the trusted CA certificates, or null (no client certificates are verified)
     * @throws TlsMaterialException naming the file and what is wrong with it
     */
    public static TlsMaterial load(KeySource key, TrustSource trust) {
        if (key == null && trust == null) {
            throw new IllegalArgumentException("TLS needs a key and certificate, trusted certificates, or both");
        }
        List<X509Certificate> chain = List.of();
        X509KeyManager keyManager = null;
        if (key != null) {
            KeyAndChain loaded = key instanceof KeySource.Pem pem ? loadPem(pem) : loadPkcs12((KeySource.Pkcs12) key);
            chain = loaded.chain();
            keyManager = keyManager(loaded);
        }
        List<X509Certificate> trusted = List.of();
        X509TrustManager trustManager = null;
        if (trust != null) {
            Path file = trust.files().get(0);
            trusted = trust instanceof TrustSource.Pem pem
                    ? PemFiles.readCertificates(pem.certificates())
                    : loadPkcs12Trust((TrustSource.Pkcs12) trust);
            trustManager = trustManager(file, trusted);
        }
        return new TlsMaterial(chain, keyManager, trusted, trustManager);
    }

    /** The key manager presenting the certificate chain; empty when no key was configured. */
    public Optional<X509KeyManager> keyManager() {
        return Optional.ofNullable(keyManager);
    }

    /** The trust manager verifying peers against the trusted certificates; empty when none were configured. */
    public Optional<X509TrustManager> trustManager() {
        return Optional.ofNullable(trustManager);
    }

    /** The certificate chain presented to peers, end-entity first; empty when no key was configured. */
    public List<X509Certificate> certificateChain() {
        return certificateChain;
    }

    public List<X509Certificate> trustedCertificates() {
        return trustedCertificates;
    }

    /** When the presented certificate expires, for a readiness or expiry warning. */
    public Optional<Instant> notAfter() {
        return certificateChain.isEmpty() ? Optional.empty()
                : Optional.of(certificateChain.get(0).getNotAfter().toInstant());
    }

    /**
     * A JDK context with these managers. Without trusted certificates it trusts nobody (never the JDK's default CAs):
     * what is not configured is not trusted.
     */
    public SSLContext sslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            KeyManager[] km = keyManager == null ? null : new KeyManager[] {keyManager};
            TrustManager tm = trustManager != null ? trustManager : TrustNobody.INSTANCE;
            context.init(km, new TrustManager[] {tm}, new SecureRandom());
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no TLS context", e);
        }
    }

    /** Protocols, cipher suites (those of {@link #CIPHER_SUITES} the JDK supports) and client authentication. */
    public SSLParameters serverParameters(SSLContext context, ClientAuth clientAuth) {
        if (clientAuth != ClientAuth.NONE && trustManager == null) {
            throw new IllegalStateException("client authentication (" + clientAuth
                    + ") needs trusted CA certificates, and none are configured");
        }
        SSLParameters parameters = clientParameters(context);
        parameters.setUseCipherSuitesOrder(true);
        parameters.setNeedClientAuth(clientAuth == ClientAuth.REQUIRED);
        if (clientAuth == ClientAuth.REQUESTED) {
            parameters.setWantClientAuth(true);
        }
        return parameters;
    }

    /** Protocols and cipher suites for a client socket of {@code context}. */
    public static SSLParameters clientParameters(SSLContext context) {
        SSLParameters parameters = new SSLParameters();
        parameters.setProtocols(PROTOCOLS.toArray(String[]::new));
        parameters.setCipherSuites(supportedCipherSuites(context).toArray(String[]::new));
        return parameters;
    }

    /** The suites of {@link #CIPHER_SUITES} that {@code context} supports, in preference order. */
    public static List<String> supportedCipherSuites(SSLContext context) {
        Set<String> supported = Set.of(context.getSupportedSSLParameters().getCipherSuites());
        return CIPHER_SUITES.stream().filter(supported::contains).toList();
    }

    private record KeyAndChain(Path file, PrivateKey key, List<X509Certificate> chain) {
    }

    private static KeyAndChain loadPem(KeySource.Pem pem) {
        List<X509Certificate> chain = PemFiles.readCertificates(pem.certificateChain());
        PrivateKey key = PemFiles.readPrivateKey(pem.privateKey(), pem.password());
        requireMatch(pem.privateKey() + " and " + pem.certificateChain(), key, chain.get(0).getPublicKey());
        return new KeyAndChain(pem.certificateChain(), key, chain);
    }

    private static KeyAndChain loadPkcs12(KeySource.Pkcs12 source) {
        Path file = source.file();
        KeyStore store = openPkcs12(file, source.password());
        try {
            String alias = source.alias();
            if (alias == null) {
                List<String> keyAliases = new ArrayList<>();
                for (String a : Collections.list(store.aliases())) {
                    if (store.isKeyEntry(a)) {
                        keyAliases.add(a);
                    }
                }
                if (keyAliases.size() != 1) {
                    throw new TlsMaterialException(file + " holds " + keyAliases.size() + " key entries "
                            + keyAliases + "; configure the alias of the one to use");
                }
                alias = keyAliases.get(0);
            } else if (!store.isKeyEntry(alias)) {
                throw new TlsMaterialException(file + " has no key entry named '" + alias + "'");
            }
            String keyPassword = source.keyPassword() != null ? source.keyPassword() : source.password();
            PrivateKey key;
            try {
                key = (PrivateKey) store.getKey(alias, keyPassword == null ? new char[0] : keyPassword.toCharArray());
            } catch (UnrecoverableKeyException e) {
                throw new TlsMaterialException(file + ": the key '" + alias + "' cannot be recovered (wrong key"
                        + " password?)", e);
            }
            Certificate[] certificates = store.getCertificateChain(alias);
            if (key == null || certificates == null || certificates.length == 0) {
                throw new TlsMaterialException(file + ": the entry '" + alias + "' has no private key with a"
                        + " certificate chain");
            }
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : certificates) {
                chain.add((X509Certificate) c);
            }
            requireMatch(file.toString(), key, chain.get(0).getPublicKey());
            return new KeyAndChain(file, key, List.copyOf(chain));
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException(file + " cannot be read as PKCS12: " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> loadPkcs12Trust(TrustSource.Pkcs12 source) {
        List<X509Certificate> trusted = Pkcs12Trust.read(source.file(), source.password());
        if (trusted.isEmpty()) {
            throw new TlsMaterialException(source.file() + " holds no trusted certificate (certificates that go"
                    + " with a private key are not trust anchors)");
        }
        return trusted;
    }

    private static KeyStore openPkcs12(Path file, String password) {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password == null ? null : password.toCharArray());
            return store;
        } catch (NoSuchFileException e) {
            throw new TlsMaterialException(file + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new TlsMaterialException(file + " cannot be read: permission denied", e);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException
                    || String.valueOf(e.getMessage()).contains("password")) {
                throw new TlsMaterialException(file + " cannot be opened: wrong password", e);
            }
            throw new TlsMaterialException(file + " is not a PKCS12 file, or it is damaged: " + e.getMessage(), e);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new TlsMaterialException(file + " cannot be read as PKCS12: " + e.getMessage(), e);
        }
    }

    /** Fails unless {@code key} is the private half of {@code publicKey}. */
    static void requireMatch(String where, PrivateKey key, PublicKey publicKey) {
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            throw new TlsMaterialException(where + ": the private key (" + key.getAlgorithm()
                    + ") does not belong to the certificate (" + publicKey.getAlgorithm() + ")");
        }
        boolean matches;
        if (key instanceof RSAPrivateKey rsa && publicKey instanceof RSAPublicKey rsaPublic) {
            matches = rsa.getModulus().equals(rsaPublic.getModulus());
        } else {
            matches = signsFor(key, publicKey);
        }
        if (!matches) {
            throw new TlsMaterialException(where + ": the private key does not belong to the first certificate");
        }
    }

    private static boolean signsFor(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> null;
        };
        if (algorithm == null) {
            return true; // a key type JSSE itself will judge in the handshake
        }
        try {
            byte[] challenge = UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static X509KeyManager keyManager(KeyAndChain loaded) {
        try {
            char[] password = UUID.randomUUID().toString().toCharArray(); // protects the entry in memory only
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(KEY_ALIAS, loaded.key(), password, loaded.chain().toArray(Certificate[]::new));
            KeyManagerFactory factory = KeyManagerFactory.getInstance("PKIX");
            factory.init(store, password);
            Arrays.fill(password, '\0');
            for (KeyManager km : factory.getKeyManagers()) {
                if (km instanceof X509KeyManager x509) {
                    return x509;
                }
            }
            throw new IllegalStateException("the JDK's PKIX key manager factory made no X509KeyManager");
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException(loaded.file() + ": the key cannot be used for TLS: " + e.getMessage(), e);
        }
    }

    private static X509TrustManager trustManager(Path file, List<X509Certificate> trusted) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < trusted.size(); i++) {
                store.setCertificateEntry("ca-" + i, trusted.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509TrustManager x509) {
                    return x509;
                }
            }
            throw new IllegalStateException("the JDK's PKIX trust manager factory made no X509TrustManager");
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException(file + ": the certificates cannot be trusted for TLS: " + e.getMessage(), e);
        }
    }

    /** Trusts no peer: the trust manager of a context whose trusted certificates are not configured. */
    private enum TrustNobody implements X509TrustManager {
        INSTANCE;

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            throw new CertificateException("no trusted certificates are configured");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
            throw new CertificateException("no trusted certificates are configured");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
