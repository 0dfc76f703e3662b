package dev.bulwark.storage.crypto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;

import dev.bulwark.storage.MetadataFile;

/**
 * Where the master key comes from: a file (a mounted Kubernetes secret), an environment variable, or, when neither
 * is configured, a dev key generated on first start into {@code <data-dir>/keys/dev-master.key}.
 *
 * <p>A key file holds either the 32 raw key bytes or their base64 (standard alphabet, padding optional) with
 * surrounding whitespace ignored; an environment variable holds base64. Error messages name where the key was looked
 * for and never show key material.
 *
 * <p>A dev key lies next to the data it protects, so it protects nothing against a copy of the disk: it exists so
 * that encryption is on by default and the same code runs in development. {@link MasterKey#devKey()} says when one
 * is in use so that the broker can warn loudly.
 */
public final class MasterKeySource {

    /** The dev key's file name in {@value KeysDirectory#NAME} of the data directory. */
    public static final String DEV_KEY_FILE = "dev-master.key";

    private static final int KEY_LENGTH = AesGcm.KEY_LENGTH;

    private MasterKeySource() {
    }

    /**
     * A master key ready for use.
     *
     * @param origin where it came from, for the startup log: never key material
     * @param devKey whether it is a dev key kept in the data directory, which must not protect real data
     */
    public record MasterKey(LocalKeyManagementService kms, String origin, boolean devKey) {
    }

    /**
     * The master key from {@code file} when one is configured, else from the base64 {@code value} (an environment
     * variable's) when it is set, else the data directory's dev key (generated when absent).
     *
     * @param valueOrigin where {@code value} comes from, for messages and the log
     * @throws MasterKeyException when both a file and a value are set (ambiguous: which one protects the data is then
     *                            a matter of luck), the configured key is unusable, or none is configured while the
     *                            data directory has a keyring but no dev key (see {@link #devKey})
     */
    public static MasterKey load(Optional<Path> file, Optional<String> value, String valueOrigin, Path dataDir,
                                 AesGcm gcm) throws IOException, MasterKeyException {
        if (file.isPresent() && value.isPresent()) {
            throw new MasterKeyException("a master key is configured twice, in file " + file.get() + " and in "
                    + valueOrigin + ": configure one");
        }
        if (file.isPresent()) {
            return fromFile(file.get(), gcm);
        }
        if (value.isPresent()) {
            return fromBase64(value.get(), valueOrigin, gcm);
        }
        return devKey(dataDir, gcm);
    }

    /**
     * The master key in {@code file}: 32 raw bytes, or base64 text.
     *
     * @throws MasterKeyException when the file does not exist or does not hold a 256-bit key
     */
    public static MasterKey fromFile(Path file, AesGcm gcm) throws IOException, MasterKeyException {
        String origin = "file " + file;
        return new MasterKey(new LocalKeyManagementService(readKeyFile(file, origin), gcm), origin, false);
    }

    /**
     * The master key in base64 {@code value}, e.g. an environment variable's.
     *
     * @param origin where the value came from, for error messages and the log
     * @throws MasterKeyException when the value is not base64 of 32 bytes
     */
    public static MasterKey fromBase64(String value, String origin, AesGcm gcm) throws MasterKeyException {
        return new MasterKey(new LocalKeyManagementService(decode(value, origin), gcm), origin, false);
    }

    /**
     * The data directory's dev key, generated (base64, owner-only permissions where the file system has POSIX
     * permissions, written durably) when it does not exist yet and neither does a keyring: a keyring without a dev
     * key beside it was written under a configured master key, which a generated key could only fail to open, so
     * nothing is generated into that directory.
     *
     * @throws MasterKeyException when the dev key file exists but does not hold a 256-bit key, or the data directory
     *                            has a keyring but no dev key
     */
    public static MasterKey devKey(Path dataDir, AesGcm gcm) throws IOException, MasterKeyException {
        Path directory = KeysDirectory.of(dataDir);
        Path file = directory.resolve(DEV_KEY_FILE);
        if (Files.exists(file)) {
            String origin = "dev key file " + file;
            return new MasterKey(new LocalKeyManagementService(readKeyFile(file, origin), gcm), origin, true);
        }
        if (Files.exists(directory.resolve(Keyring.FILE_NAME))) {
            throw new MasterKeyException("no master key is configured, and keyring " + directory.resolve(
                    Keyring.FILE_NAME) + " was written under a configured one: configure it (a key file or a base64"
                    + " value), no dev key is generated beside that keyring");
        }
        byte[] key = gcm.newKey().getEncoded();
        writeDevKey(file, Base64.getEncoder().encodeToString(key) + "\n");
        return new MasterKey(new LocalKeyManagementService(key, gcm), "dev key file " + file + " (generated)", true);
    }

    private static byte[] readKeyFile(Path file, String origin) throws IOException, MasterKeyException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new MasterKeyException("the master key " + origin + " does not exist");
        }
        if (bytes.length != KEY_LENGTH) {
            return decode(new String(bytes, StandardCharsets.US_ASCII), origin);
        }
        if (printable(bytes)) {
            // 32 random bytes are all printable ASCII once in 10^14: this is a password or truncated base64.
            throw new MasterKeyException("the master key " + origin + " is 32 bytes of text, not 32 random bytes: "
                    + "supply a random 256-bit key, raw or base64");
        }
        return bytes;
    }

    private static byte[] decode(String text, String origin) throws MasterKeyException {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new MasterKeyException("the master key " + origin + " is neither " + KEY_LENGTH
                    + " raw bytes nor valid base64");
        }
        if (key.length != KEY_LENGTH) {
            throw new MasterKeyException("the master key " + origin + " decodes to " + key.length
                    + " bytes; a 256-bit master key is " + KEY_LENGTH + " bytes (raw or base64)");
        }
        return key;
    }

    private static boolean printable(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0x20 || b > 0x7E) {
                return false;
            }
        }
        return true;
    }

    private static void writeDevKey(Path file, String content) throws IOException {
        KeysDirectory.create(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel channel = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), ownerOnly(file))) {
            ByteBuffer buffer = ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + file + " cannot rename atomically", e);
        }
        MetadataFile.syncDirectory(file.getParent());
    }

    private static FileAttribute<?>[] ownerOnly(Path file) {
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[] {
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))};
        }
        return new FileAttribute<?>[0];
    }
}
