package dev.bulwark.storage.crypto;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.util.Arrays;
import java.util.Objects;

/**
 * AES-256-GCM sealing and opening of byte ranges, and the random keys and nonces of the key hierarchy, all from one
 * provider chosen at construction.
 *
 * <p>A sealed range is the ciphertext (as long as the plaintext) followed by a {@value #TAG_LENGTH}-byte
 * authentication tag; the nonce and the associated data are not part of it: the caller stores or derives the nonce
 * and rebuilds the associated data when it opens.
 *
 * <p><b>The nonce rule the caller must keep</b>: never seal two different plaintexts with the same nonce under one
 * key. A repeated nonce under GCM reveals the XOR of the two plaintexts and lets an attacker forge tags for that key.
 * Random nonces ({@link #randomNonce()}) are safe for up to 2<sup>32</sup> seals per key, so they are used only where
 * seals are rare (key wrapping); stored batches use a deterministic nonce that the segment can prove unique, see
 * {@link SegmentNonce}.
 *
 * <p>Design note: {@link Cipher#getInstance} looks the provider up and allocates on every call, which costs more than
 * sealing a small batch, so each thread keeps one {@link Cipher} per instance of this class and re-initialises it
 * per call (key and nonce change every call anyway). The provider is a constructor argument so that a FIPS-approved
 * provider can replace the JDK's SunJCE (whose GCM uses the AES-NI and carry-less multiply intrinsics) in one place:
 * {@link CryptoProvider#aesGcm()}.
 *
 * <p>Design note: SunJCE's GCM is several times slower when the plaintext side of a call is a direct buffer than when
 * it is a heap array (measured at 64 KiB, AMD EPYC: sealing from direct 2.8 GB/s against 7.4 GB/s from heap on JDK 25,
 * about 10% slower on JDK 17; opening into direct alike), and the broker's network buffers are direct. So a direct
 * plaintext (to seal) or a direct output (to open) goes through a heap buffer each thread keeps: a copy costs far less
 * than the slower path. Like the network buffers, it holds plaintext in memory only, never on disk.
 *
 * <p>Thread-safe.
 */
public final class AesGcm {

    public static final int KEY_LENGTH = 32;
    public static final int NONCE_LENGTH = 12;
    public static final int TAG_LENGTH = 16;

    private static final String TRANSFORMATION = "AES/GCM/NoPadding";
    /** Ranges larger than this are staged in a buffer of their own rather than the thread's. */
    private static final int MAX_STAGING = 8 << 20;

    private final Provider provider;
    private final SecureRandom random;
    private final ThreadLocal<Cipher> ciphers;
    /** Each thread's heap buffer for plaintext from or to a direct buffer (see the class comment). */
    private final ThreadLocal<ByteBuffer> staging = ThreadLocal.withInitial(() -> ByteBuffer.allocate(64 << 10));

    /** The JDK's SunJCE provider and the platform's default {@link SecureRandom}. */
    public AesGcm() {
        this(Objects.requireNonNull(Security.getProvider("SunJCE"), "the JDK's SunJCE provider is not installed"),
                new SecureRandom());
    }

    /**
     * @throws IllegalArgumentException when the provider has no AES/GCM/NoPadding (checked here, not on first use)
     */
    public AesGcm(Provider provider, SecureRandom random) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.random = Objects.requireNonNull(random, "random");
        newCipher();
        this.ciphers = ThreadLocal.withInitial(this::newCipher);
    }

    /** The provider this instance seals with; the key hierarchy's HMAC comes from it too. */
    public Provider provider() {
        return provider;
    }

    /** A fresh random 256-bit AES key. */
    public SecretKey newKey() {
        byte[] bytes = new byte[KEY_LENGTH];
        random.nextBytes(bytes);
        return key(bytes);
    }

    /** A fresh random 96-bit nonce: only for keys that seal few messages (at most 2<sup>32</sup>). */
    public byte[] randomNonce() {
        byte[] nonce = new byte[NONCE_LENGTH];
        random.nextBytes(nonce);
        return nonce;
    }

    /**
     * An AES key of the given bytes (copied).
     *
     * @throws IllegalArgumentException when the key is not {@value #KEY_LENGTH} bytes
     */
    public static SecretKey key(byte[] bytes) {
        if (bytes.length != KEY_LENGTH) {
            throw new IllegalArgumentException("an AES-256 key is " + KEY_LENGTH + " bytes, not " + bytes.length);
        }
        return new SecretKeySpec(bytes, "AES");
    }

    /** The length of the sealed form of {@code plaintextLength} bytes. */
    public static int sealedLength(int plaintextLength) {
        return Math.addExact(plaintextLength, TAG_LENGTH);
    }

    /**
     * Seals the remaining bytes of {@code plaintext} into {@code out}: ciphertext then tag. Both buffers may be heap or
     * direct; {@code plaintext}'s position moves to its limit and {@code out}'s by the number of bytes written.
     * {@code associatedData} is authenticated, not stored, and its position is left alone.
     *
     * @return the number of bytes written, {@link #sealedLength}{@code (plaintext.remaining())}
     * @throws IllegalArgumentException when {@code out} has too little room, the key is not AES-256 or the nonce not
     *                                  {@value #NONCE_LENGTH} bytes
     * @throws IllegalStateException    when the provider refuses, e.g. the JDK's check that the same cipher is not
     *                                  initialised twice in a row with one key and nonce (a broken nonce rule)
     */
    public int seal(SecretKey key, byte[] nonce, ByteBuffer associatedData, ByteBuffer plaintext, ByteBuffer out) {
        int length = sealedLength(plaintext.remaining());
        if (out.remaining() < length) {
            throw new IllegalArgumentException("sealing " + plaintext.remaining() + " bytes needs " + length
                    + " bytes of room, the output buffer has " + out.remaining());
        }
        Cipher cipher = init(Cipher.ENCRYPT_MODE, key, nonce, associatedData);
        ByteBuffer source = plaintext.hasArray() ? plaintext : staging(plaintext.remaining()).put(plaintext).flip();
        try {
            return cipher.doFinal(source, out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM sealing failed in provider " + provider.getName(), e);
        }
    }

    /**
     * Opens the remaining bytes of {@code sealed} (ciphertext then tag) into {@code out}. No plaintext is left in
     * {@code out} unless the tag verifies: the JDK's GCM holds the plaintext back until it has checked the tag, and
     * where a provider does not (Bouncy Castle's writes it into a heap buffer first), the range is zeroed again.
     *
     * @return the number of plaintext bytes written, {@code sealed.remaining() - TAG_LENGTH}
     * @throws AEADBadTagException      when the key, nonce, associated data or any sealed byte differs from sealing
     * @throws IllegalArgumentException when {@code out} has too little room, the key is not AES-256 or the nonce not
     *                                  {@value #NONCE_LENGTH} bytes
     */
    public int open(SecretKey key, byte[] nonce, ByteBuffer associatedData, ByteBuffer sealed, ByteBuffer out)
            throws AEADBadTagException {
        if (sealed.remaining() < TAG_LENGTH) {
            throw new AEADBadTagException("a sealed range has at least the " + TAG_LENGTH + "-byte tag, this one has "
                    + sealed.remaining() + " bytes");
        }
        int length = sealed.remaining() - TAG_LENGTH;
        if (out.remaining() < length) {
            throw new IllegalArgumentException("opening " + sealed.remaining() + " bytes needs " + length
                    + " bytes of room, the output buffer has " + out.remaining());
        }
        Cipher cipher = init(Cipher.DECRYPT_MODE, key, nonce, associatedData);
        ByteBuffer target = out.hasArray() ? out : staging(length);
        int start = target.position();
        try {
            cipher.doFinal(sealed, target);
        } catch (AEADBadTagException e) {
            for (int i = start; i < start + length; i++) {
                target.put(i, (byte) 0);
            }
            target.position(start);
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM opening failed in provider " + provider.getName(), e);
        }
        if (target != out) {
            out.put(target.flip());
        }
        return length;
    }

    /** This thread's heap buffer, cleared, with room for {@code length} bytes (a fresh one past 8 MiB). */
    private ByteBuffer staging(int length) {
        if (length > MAX_STAGING) {
            return ByteBuffer.allocate(length);
        }
        ByteBuffer buffer = staging.get();
        if (buffer.capacity() < length) {
            buffer = ByteBuffer.allocate(Math.max(length, Math.min(MAX_STAGING, buffer.capacity() * 2)));
            staging.set(buffer);
        }
        return buffer.clear().limit(length);
    }

    /**
     * Seals and opens {@code rounds} random ranges with throwaway keys and checks each comes back as it was (a
     * self-test of the provider), through the same calls the log makes, heap and direct: 1 KiB ranges, and in the
     * second half every sixteenth one of a batch's size, from 16 KiB to just over 1 MiB.
     *
     * <p>Why: the JIT compiles GCM's intrinsic loops only after many calls, and a call on a whole batch (tens of
     * kilobytes) counts once; a fresh server that seals only batches runs its first seconds of traffic through the
     * interpreted loops, some fifty times slower. Many small calls compile them before the traffic comes. The large
     * ones take the provider's paths for long ranges (SunJCE splits them in chunks), which the small ones never
     * reach: compiled code that has not seen them is thrown away when traffic first takes them, and the broker ran
     * its first seconds of batches through unintrinsified GHASH again (measured on JDK 17 with 1 KiB calls only).
     *
     * @throws IllegalStateException when a range does not come back as it was sealed
     */
    public void warmUp(int rounds) {
        SecretKey key = null;
        int[] largeSizes = {16 << 10, (64 << 10) + 100, 256 << 10, (1 << 20) + 100};
        int maxSize = largeSizes[largeSizes.length - 1];
        byte[] plain = new byte[maxSize];
        random.nextBytes(plain);
        ByteBuffer sealed = ByteBuffer.allocate(sealedLength(maxSize));
        ByteBuffer heap = ByteBuffer.allocate(maxSize);
        ByteBuffer direct = ByteBuffer.allocateDirect(maxSize);
        ByteBuffer associatedData = ByteBuffer.allocate(16);
        byte[] nonce = new byte[NONCE_LENGTH];
        for (int i = 0; i < rounds; i++) {
            if (i % 16 == 0) {
                key = newKey(); // the log switches between segments' keys all the time: key expansion is hot too
            }
            // Large ranges only once the small ones had the loops compiled: interpreted, they would take seconds.
            int size = i >= rounds / 2 && i % 16 == 15 ? largeSizes[(i / 16) % largeSizes.length] : 1024;
            ByteBuffer.wrap(nonce).putInt(0, i);
            ByteBuffer plaintext = ByteBuffer.wrap(plain, i % 64, size - i % 64).slice();
            ByteBuffer source = (i & 2) == 0 ? plaintext.duplicate() : direct.clear().put(plaintext.duplicate()).flip();
            seal(key, nonce, associatedData, source, sealed.clear());
            ByteBuffer out = (i & 1) == 0 ? heap.clear() : direct.clear();
            try {
                open(key, nonce, associatedData, sealed.flip(), out);
            } catch (AEADBadTagException e) {
                throw new IllegalStateException("AES-GCM self-test failed in provider " + provider.getName(), e);
            }
            if (!out.flip().equals(plaintext)) {
                throw new IllegalStateException("AES-GCM self-test: provider " + provider.getName()
                        + " opened other bytes than it sealed");
            }
        }
    }

    /** {@link #seal(SecretKey, byte[], ByteBuffer, ByteBuffer, ByteBuffer)} of whole arrays. */
    public byte[] seal(SecretKey key, byte[] nonce, byte[] associatedData, byte[] plaintext) {
        byte[] out = new byte[sealedLength(plaintext.length)];
        seal(key, nonce, ByteBuffer.wrap(associatedData), ByteBuffer.wrap(plaintext), ByteBuffer.wrap(out));
        return out;
    }

    /** {@link #open(SecretKey, byte[], ByteBuffer, ByteBuffer, ByteBuffer)} of whole arrays. */
    public byte[] open(SecretKey key, byte[] nonce, byte[] associatedData, byte[] sealed) throws AEADBadTagException {
        byte[] out = new byte[Math.max(0, sealed.length - TAG_LENGTH)];
        open(key, nonce, ByteBuffer.wrap(associatedData), ByteBuffer.wrap(sealed), ByteBuffer.wrap(out));
        return out;
    }

    private Cipher init(int mode, SecretKey key, byte[] nonce, ByteBuffer associatedData) {
        if (nonce.length != NONCE_LENGTH) {
            throw new IllegalArgumentException("an AES-GCM nonce here is " + NONCE_LENGTH + " bytes, not "
                    + nonce.length);
        }
        byte[] encoded = key.getEncoded();
        boolean aes256 = "AES".equals(key.getAlgorithm()) && encoded != null && encoded.length == KEY_LENGTH;
        if (encoded != null) {
            Arrays.fill(encoded, (byte) 0);
        }
        if (!aes256) {
            // A provider would take a 128-bit key without complaint, and that key would be weaker than promised.
            throw new IllegalArgumentException("an AES-256 key is required");
        }
        Cipher cipher = ciphers.get();
        try {
            cipher.init(mode, key, new GCMParameterSpec(TAG_LENGTH * Byte.SIZE, nonce));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM refused the key or nonce in provider " + provider.getName(), e);
        }
        cipher.updateAAD(associatedData.duplicate());
        return cipher;
    }

    private Cipher newCipher() {
        try {
            return Cipher.getInstance(TRANSFORMATION, provider);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("provider " + provider.getName() + " has no " + TRANSFORMATION, e);
        }
    }
}
