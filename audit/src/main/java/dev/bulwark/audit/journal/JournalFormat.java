package dev.bulwark.audit.journal;

import dev.bulwark.storage.crypto.KeyUnwrapException;
import dev.bulwark.storage.crypto.WrappedDataKey;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The journal's files, {@code <first sequence number, 20 digits>.journal}, each a header and then entries:
 * <pre>
 * header: i32 magic "BWAU", i8 version (1), i64 first sequence number, 32 bytes hash of the entry before it (zeros
 *         before the first entry ever), u16 length + the file's data key wrapped under the broker's key-encryption
 *         key ({@link WrappedDataKey}), i32 CRC-32C of all the header bytes before it
 * entry:  i32 body length, body = [i64 sequence number, i64 time ms, 32 bytes hash of the previous entry,
 *         the event sealed with AES-256-GCM (ciphertext and 16-byte tag)], 32 bytes SHA-256 of the body
 * </pre>
 * An entry's hash is the SHA-256 of its body; the body holds the previous entry's hash, so each entry commits to every
 * entry before it. Sequence numbers, times and hashes are in the clear so that the chain is checked, and a time range
 * found, from the files and the signing public key alone; the event (names, principals, addresses, reasons) is sealed.
 * The seal's nonce is the sequence number (each file has a data key of its own and a process always starts a new
 * file, so no number is sealed twice under one key), and its associated data binds the sequence number, the time and
 * the previous hash: a sealed event moved to another place does not open.
 */
final class JournalFormat {

    static final int MAGIC = 0x42574155; // "BWAU"
    static final byte VERSION = 1;
    static final int HASH_LENGTH = 32;
    static final String SUFFIX = ".journal";
    static final byte[] GENESIS = new byte[HASH_LENGTH];
    /** Sequence number, time and previous hash. */
    static final int BODY_FIXED = 8 + 8 + HASH_LENGTH;
    /** Far above any event; a larger length is damage, not an entry. */
    static final int MAX_BODY = 16 << 20;

    private static final byte[] LABEL = "bulwark/audit/v1".getBytes(StandardCharsets.US_ASCII);

    private JournalFormat() {
    }

    static String fileName(long firstSeq) {
        return String.format("%020d%s", firstSeq, SUFFIX);
    }

    /** The journal files of {@code directory}, oldest first. */
    static List<Path> files(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(directory)) {
            List<Path> files = new ArrayList<>(entries.filter(JournalFormat::isJournalFile).toList());
            files.sort(Comparator.comparing(p -> p.getFileName().toString()));
            return files;
        }
    }

    static boolean isJournalFile(Path path) {
        String name = path.getFileName().toString();
        return name.length() == 20 + SUFFIX.length() && name.endsWith(SUFFIX)
                && name.substring(0, 20).chars().allMatch(Character::isDigit);
    }

    /** A file's header, and where its entries start. */
    record Header(long firstSeq, byte[] previousHash, WrappedDataKey key, int length) {
    }

    static byte[] encodeHeader(long firstSeq, byte[] previousHash, WrappedDataKey key) {
        byte[] wrapped = key.toBytes();
        ByteBuffer out = ByteBuffer.allocate(4 + 1 + 8 + HASH_LENGTH + 2 + wrapped.length + 4);
        out.putInt(MAGIC).put(VERSION).putLong(firstSeq).put(previousHash).putShort((short) wrapped.length)
                .put(wrapped);
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        return out.array();
    }

    /**
     * @throws JournalDamageException when the bytes are not a whole, intact header of this version
     */
    static Header decodeHeader(Path file, ByteBuffer in) throws JournalDamageException {
        int start = in.position();
        if (in.remaining() < 4 + 1 + 8 + HASH_LENGTH + 2) {
            throw new JournalDamageException(file, 0, "the header is cut short", true);
        }
        if (in.getInt() != MAGIC) {
            throw new JournalDamageException(file, 0, "not an audit journal file (bad magic)");
        }
        byte version = in.get();
        if (version != VERSION) {
            throw new JournalDamageException(file, 0, "unknown journal format version " + version);
        }
        long firstSeq = in.getLong();
        byte[] previous = new byte[HASH_LENGTH];
        in.get(previous);
        int keyLength = Short.toUnsignedInt(in.getShort());
        if (in.remaining() < keyLength + 4) {
            throw new JournalDamageException(file, 0, "the header is cut short", true);
        }
        byte[] wrapped = new byte[keyLength];
        in.get(wrapped);
        CRC32C crc = new CRC32C();
        crc.update(in.array(), in.arrayOffset() + start, in.position() - start);
        if (in.getInt() != (int) crc.getValue()) {
            throw new JournalDamageException(file, 0, "the header's checksum does not match");
        }
        try {
            return new Header(firstSeq, previous, WrappedDataKey.fromBytes(wrapped), in.position() - start);
        } catch (KeyUnwrapException e) {
            throw new JournalDamageException(file, 0, "the header's data key is malformed: " + e.getMessage());
        }
    }

    static byte[] nonce(long seq) {
        return ByteBuffer.allocate(12).putInt(0).putLong(seq).array();
    }

    static byte[] associatedData(long seq, long timeMs, byte[] previousHash) {
        return ByteBuffer.allocate(LABEL.length + 16 + HASH_LENGTH).put(LABEL).putLong(seq).putLong(timeMs)
                .put(previousHash).array();
    }

    static byte[] sha256(byte[] bytes, int offset, int length) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes, offset, length);
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
