package dev.bulwark.auth.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

import dev.bulwark.storage.crypto.CryptoProvider;

/**
 * Reads and writes PEM keys and certificates with Bouncy Castle.
 *
 * <p>Design note: Bouncy Castle parses the PEM and decrypts encrypted keys with its provider ({@link #bouncyCastle()}),
 * while the keys and certificates handed out are the JDK's own objects, so JSSE signs with the JDK's providers.
 */
final class PemFiles {

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");

    private PemFiles() {
    }

    /**
     * The Bouncy Castle provider that decrypts keys: in FIPS mode the FIPS module that {@link CryptoProvider#fips()}
     * registered (approved-only: an encryption FIPS does not approve, such as OpenSSL's legacy MD5-derived one, is
     * refused), otherwise a private instance, never registered, of the provider this build has (bcprov's {@code BC},
     * or {@code BCFIPS} in the FIPS build).
     */
    static Provider bouncyCastle() {
        Provider fips = Security.getProvider(CryptoProvider.FIPS_PROVIDER_NAME);
        return fips != null ? fips : BuildProvider.INSTANCE;
    }

    /** Whether FIPS mode is on: {@link CryptoProvider#fips()} registered the FIPS module. */
    static boolean fipsMode() {
        return Security.getProvider(CryptoProvider.FIPS_PROVIDER_NAME) != null;
    }

    /** The certificates of a PEM file, in file order; other PEM objects in it (a key) are skipped. */
    static List<X509Certificate> readCertificates(Path file) {
        List<X509Certificate> certificates = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (Object o : readObjects(file)) {
            if (o instanceof X509CertificateHolder holder) {
                try {
                    certificates.add(converter.getCertificate(holder));
                } catch (CertificateException e) {
                    throw new TlsMaterialException(file + ": certificate " + (certificates.size() + 1)
                            + " cannot be read: " + e.getMessage(), e);
                }
            }
        }
        if (certificates.isEmpty()) {
            throw new TlsMaterialException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return List.copyOf(certificates);
    }

    /**
     * The one private key of a PEM file (certificates in the same file are skipped).
     *
     * @param password the password of an encrypted key, or null
     */
    static PrivateKey readPrivateKey(Path file, String password) {
        List<Object> keys = new ArrayList<>();
        for (Object o : readObjects(file)) {
            if (o instanceof PEMKeyPair || o instanceof PrivateKeyInfo || o instanceof PKCS8EncryptedPrivateKeyInfo
                    || o instanceof PEMEncryptedKeyPair) {
                keys.add(o);
            }
        }
        if (keys.isEmpty()) {
            throw new TlsMaterialException(file + " holds no PEM private key (PRIVATE KEY, ENCRYPTED PRIVATE KEY,"
                    + " RSA PRIVATE KEY or EC PRIVATE KEY)");
        }
        if (keys.size() > 1) {
            throw new TlsMaterialException(file + " holds " + keys.size() + " private keys; it must hold one");
        }
        Object key = keys.get(0);
        PrivateKeyInfo info;
        try {
            if (key instanceof PEMKeyPair pair) {
                info = pair.getPrivateKeyInfo();
            } else if (key instanceof PrivateKeyInfo plain) {
                info = plain;
            } else if (key instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
                requirePassword(file, password);
                info = encrypted.decryptPrivateKeyInfo(
                        new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(bouncyCastle())
                                .build(password.toCharArray()));
            } else {
                requirePassword(file, password);
                if (fipsMode()) {
                    throw new TlsMaterialException(file + ": FIPS mode refuses OpenSSL's legacy key encryption"
                            + " (Proc-Type: 4,ENCRYPTED), whose key is derived with MD5; give the key as PKCS#8 with"
                            + " PBES2 and a salt of 16 bytes or more, or unencrypted in an owner-only file");
                }
                PEMEncryptedKeyPair encrypted = (PEMEncryptedKeyPair) key;
                info = encrypted.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(bouncyCastle())
                        .build(password.toCharArray())).getPrivateKeyInfo();
            }
        } catch (PKCSException | PEMException e) {
            throw new TlsMaterialException(file + ": the private key cannot be decrypted (wrong password?)", e);
        } catch (OperatorCreationException e) {
            throw new TlsMaterialException(file + ": the private key's encryption is not supported: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new TlsMaterialException(file + ": the private key cannot be read: " + e.getMessage(), e);
        } catch (AssertionError e) {
            // How the FIPS module refuses what approved-only mode does not allow, such as a PBKDF2 salt under 16 bytes.
            throw new TlsMaterialException(file + ": FIPS mode refuses the private key's encryption (" + e.getMessage()
                    + "); it takes PBES2 with PBKDF2 and AES, a salt of 16 bytes or more and a password of 14 or more",
                    e);
        }
        return toJdkKey(file, info);
    }

    private static void requirePassword(Path file, String password) {
        if (password == null) {
            throw new TlsMaterialException(file + ": the private key is encrypted and no password is configured");
        }
    }

    private static PrivateKey toJdkKey(Path file, PrivateKeyInfo info) {
        try {
            return new JcaPEMKeyConverter().getPrivateKey(info);
        } catch (PEMException e) {
            throw new TlsMaterialException(file + ": the private key's algorithm is not supported ("
                    + info.getPrivateKeyAlgorithm().getAlgorithm() + ")", e);
        }
    }

    private static List<Object> readObjects(Path file) {
        List<Object> objects = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1);
             PEMParser parser = new PEMParser(reader)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                if (!(o instanceof ASN1ObjectIdentifier) && !(o instanceof X9ECParameters)) {
                    objects.add(o); // "EC PARAMETERS" blocks (openssl ecparam -genkey) carry nothing we need
                }
            }
        } catch (NoSuchFileException e) {
            throw new TlsMaterialException(file + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new TlsMaterialException(file + " cannot be read: permission denied", e);
        } catch (IOException | RuntimeException e) {
            throw new TlsMaterialException(file + " is not a valid PEM file: " + e.getMessage(), e);
        }
        if (objects.isEmpty()) {
            throw new TlsMaterialException(file + " holds no PEM object (-----BEGIN ...-----); a DER or PKCS12 file"
                    + " needs its own type");
        }
        return objects;
    }

    static String toPem(List<X509Certificate> certificates) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            for (X509Certificate c : certificates) {
                writer.writeObject(c);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    /** An unencrypted PKCS#8 PEM key ({@code -----BEGIN PRIVATE KEY-----}), the form every Kafka client reads. */
    static String toPem(PrivateKey key) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(new JcaPKCS8Generator(key, null));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    /**
     * Replaces {@code target} atomically: a temporary sibling is created (owner-only when {@code secret}, before any
     * byte is written), fsynced and renamed over the target.
     */
    static void writeAtomically(Path target, String content, boolean secret) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(secret ? OWNER_ONLY : READABLE));
        } else {
            Files.createFile(tmp);
        }
        ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Bouncy Castle's provider of this build, found by class name: each build has exactly one of the two. */
    private static final class BuildProvider {

        static final Provider INSTANCE = create();

        private static Provider create() {
            for (String name : new String[] {"org.bouncycastle.jce.provider.BouncyCastleProvider",
                    "org.bouncycastle.jcajce.provider.BouncyCastleFipsProvider"}) {
                try {
                    return (Provider) Class.forName(name).getConstructor().newInstance();
                } catch (ClassNotFoundException e) {
                    // the other build's
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("Bouncy Castle's provider " + name + " cannot be created", e);
                }
            }
            throw new IllegalStateException("neither bcprov nor bc-fips is on the class path");
        }
    }
}
