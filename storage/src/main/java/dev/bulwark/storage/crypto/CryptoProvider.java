package dev.bulwark.storage.crypto;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import java.lang.reflect.InvocationTargetException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.util.Objects;

/**
 * Where Bulwark's own cryptography comes from: AES-GCM sealing and key wrapping, HMAC, digests, PBKDF2 and random
 * bytes. Either the JDK's providers ({@link #jdk()}, the default), or Bouncy Castle's FIPS 140 module
 * ({@code bc-fips}, provider {@value #FIPS_PROVIDER_NAME}) in approved-only mode ({@link #fips()}).
 *
 * <p>In approved-only mode the module refuses what FIPS 140 does not approve: MD5, HMAC keys and PBKDF2 passwords
 * shorter than 112 bits ({@value #FIPS_MINIMUM_SECRET_BYTES} bytes), PBKDF2 salts shorter than 128 bits, ChaCha20,
 * and so on (some as an {@link Error}, so callers check these lengths first). A FIPS instance therefore names its
 * provider in every lookup: an unnamed lookup would let the JCA fall back silently to a JDK provider for whatever the
 * module refuses.
 *
 * <p>Design note: the module is found by class name, never imported. The default build carries bcprov (Bouncy
 * Castle's ordinary provider) and no bc-fips; the FIPS build ({@code mvn -Dfips}) carries bc-fips instead. The two
 * must never share a class path (they define classes of the same packages differently), so code that runs in both
 * builds can name a class of neither. Approved-only mode is switched on through the system property
 * {@value #APPROVED_ONLY_PROPERTY}, which the module reads once, when its first class loads, for every thread; its
 * {@code CryptoServicesRegistrar.setApprovedOnlyMode} would cover only the calling thread, and Bulwark's
 * cryptography runs on many.
 *
 * <p>Thread-safe.
 */
public final class CryptoProvider {

    /** The name the FIPS module registers its provider under. */
    public static final String FIPS_PROVIDER_NAME = "BCFIPS";
    /** The shortest HMAC key or PBKDF2 password approved-only mode accepts: 112 bits (NIST SP 800-131A). */
    public static final int FIPS_MINIMUM_SECRET_BYTES = 14;
    /** The shortest PBKDF2 salt approved-only mode accepts: 128 bits (NIST SP 800-132). */
    public static final int FIPS_MINIMUM_SALT_BYTES = 16;

    static final String APPROVED_ONLY_PROPERTY = "org.bouncycastle.fips.approved_only";
    private static final String FIPS_PROVIDER_CLASS = "org.bouncycastle.jcajce.provider.BouncyCastleFipsProvider";
    private static final String FIPS_REGISTRAR_CLASS = "org.bouncycastle.crypto.CryptoServicesRegistrar";
    private static final String BCPROV_PROVIDER_CLASS = "org.bouncycastle.jce.provider.BouncyCastleProvider";

    /** The FIPS module's provider; null for the JDK's providers, which are then looked up without a name. */
    private final Provider fipsProvider;
    private final Provider cipherProvider;

    private CryptoProvider(Provider fipsProvider, Provider cipherProvider) {
        this.fipsProvider = fipsProvider;
        this.cipherProvider = cipherProvider;
    }

    /**
     * The JDK's providers, as the JDK chooses them (AES-GCM from SunJCE, whose GCM uses the AES-NI and carry-less
     * multiply intrinsics).
     */
    public static CryptoProvider jdk() {
        return new CryptoProvider(null, Objects.requireNonNull(Security.getProvider("SunJCE"),
                "the JDK's SunJCE provider is not installed"));
    }

    /**
     * Bouncy Castle's FIPS module in approved-only mode, registered with the JVM after the JDK's providers (so that it
     * can be found by name; every lookup that names no provider still gets the JDK's, TLS included).
     *
     * @throws IllegalStateException when this build has no bc-fips, has bcprov besides it, or the module was loaded
     *                               before approved-only mode could be set
     */
    public static synchronized CryptoProvider fips() {
        Provider registered = Security.getProvider(FIPS_PROVIDER_NAME);
        Provider provider = registered != null ? registered : loadFipsProvider();
        if (!approvedOnly()) {
            throw new IllegalStateException("Bouncy Castle's FIPS module was loaded before approved-only mode could be"
                    + " set; start the JVM with -D" + APPROVED_ONLY_PROPERTY + "=true");
        }
        if (registered == null) {
            Security.addProvider(provider);
        }
        return new CryptoProvider(provider, provider);
    }

    /** Whether this is Bouncy Castle's FIPS module. */
    public boolean isFips() {
        return fipsProvider != null;
    }

    /** AES-256-GCM sealing of this provider, with its random source for keys and nonces. */
    public AesGcm aesGcm() {
        return new AesGcm(cipherProvider, secureRandom());
    }

    public Mac mac(String algorithm) throws NoSuchAlgorithmException {
        return fipsProvider == null ? Mac.getInstance(algorithm) : Mac.getInstance(algorithm, fipsProvider);
    }

    public MessageDigest messageDigest(String algorithm) throws NoSuchAlgorithmException {
        return fipsProvider == null ? MessageDigest.getInstance(algorithm)
                : MessageDigest.getInstance(algorithm, fipsProvider);
    }

    /** A key factory, for PBKDF2 ({@code PBKDF2WithHmacSHA256}, {@code PBKDF2WithHmacSHA512}). */
    public SecretKeyFactory secretKeyFactory(String algorithm) throws NoSuchAlgorithmException {
        return fipsProvider == null ? SecretKeyFactory.getInstance(algorithm)
                : SecretKeyFactory.getInstance(algorithm, fipsProvider);
    }

    /** A new random source: the JDK's default, or the FIPS module's approved DRBG (SP 800-90A). */
    public SecureRandom secureRandom() {
        if (fipsProvider == null) {
            return new SecureRandom();
        }
        try {
            return SecureRandom.getInstance("DEFAULT", fipsProvider);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(FIPS_PROVIDER_NAME + " has no DEFAULT random source", e);
        }
    }

    /**
     * The fewest bytes an HMAC key or a PBKDF2 password may have: {@value #FIPS_MINIMUM_SECRET_BYTES} in FIPS mode, 1
     * with the JDK's providers.
     */
    public int minimumSecretBytes() {
        return fipsProvider == null ? 1 : FIPS_MINIMUM_SECRET_BYTES;
    }

    /** The fewest bytes a PBKDF2 salt may have: {@value #FIPS_MINIMUM_SALT_BYTES} in FIPS mode, 1 with the JDK's. */
    public int minimumSaltBytes() {
        return fipsProvider == null ? 1 : FIPS_MINIMUM_SALT_BYTES;
    }

    /** What the start log says: which provider, which version, which mode. */
    @Override
    public String toString() {
        return fipsProvider == null
                ? "the JDK's providers (AES-GCM from " + cipherProvider.getName() + " " + cipherProvider.getVersionStr()
                + "); FIPS mode off"
                : fipsProvider.getName() + " (" + fipsProvider.getInfo() + ") in approved-only mode; FIPS mode on";
    }

    private static Provider loadFipsProvider() {
        if (!present(FIPS_PROVIDER_CLASS)) {
            throw new IllegalStateException("this build has no Bouncy Castle FIPS module (bc-fips); FIPS mode needs the"
                    + " FIPS build: mvn -Dfips package");
        }
        if (present(BCPROV_PROVIDER_CLASS)) {
            throw new IllegalStateException("this build has both bcprov and bc-fips on its class path; FIPS mode needs"
                    + " the FIPS build, which has bc-fips alone: mvn -Dfips package");
        }
        // Before the module's first class is initialised: it reads the property then, once.
        System.setProperty(APPROVED_ONLY_PROPERTY, "true");
        try {
            return (Provider) Class.forName(FIPS_PROVIDER_CLASS).getConstructor().newInstance();
        } catch (InvocationTargetException e) {
            // The module's power-up self-tests or its integrity check failed: it refuses to serve at all.
            throw new IllegalStateException("Bouncy Castle's FIPS module failed to start: " + e.getCause(), e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Bouncy Castle's FIPS provider cannot be created: " + e, e);
        }
    }

    private static boolean approvedOnly() {
        try {
            return (Boolean) Class.forName(FIPS_REGISTRAR_CLASS).getMethod("isInApprovedOnlyMode").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Bouncy Castle's FIPS module does not say whether it is in approved-only"
                    + " mode: " + e, e);
        }
    }

    /** Whether the class is on the class path; it is loaded, not initialised (no static initialiser runs). */
    private static boolean present(String className) {
        try {
            Class.forName(className, false, CryptoProvider.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
