package dev.bulwark.audit.journal;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads one journal file's entries in order, checking only their framing: whether each entry is whole and its length
 * plausible. What the entries say (sequence, chain, hashes, seals) is for the caller to check.
 */
final class EntryScanner implements AutoCloseable {

    /** An entry as stored; {@link #hashMatches} says whether its stored hash is its body's. */
    record Entry(Path file, long position, long seq, long timeMs, byte[] previousHash, byte[] body,
                 byte[] storedHash) {

        byte[] computedHash() {
            return JournalFormat.sha256(body, 0, body.length);
        }

        boolean hashMatches() {
            return Arrays.equals(computedHash(), storedHash);
        }

        /** The sealed event: the body after sequence number, time and previous hash. */
        byte[] sealed() {
            return Arrays.copyOfRange(body, JournalFormat.BODY_FIXED, body.length);
        }

        long end() {
            return position + 4 + body.length + JournalFormat.HASH_LENGTH;
        }
    }

    private final Path file;
    private final DataInputStream in;
    private final JournalFormat.Header header;
    private long position;

    private EntryScanner(Path file, DataInputStream in, JournalFormat.Header header) {
        this.file = file;
        this.in = in;
        this.header = header;
        this.position = header.length();
    }

    /**
     * @throws JournalDamageException when the header is not intact
     */
    static EntryScanner open(Path file) throws IOException {
        InputStream raw = Files.newInputStream(file);
        try {
            DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 16));
            byte[] start = in.readNBytes(4 + 1 + 8 + JournalFormat.HASH_LENGTH + 2);
            int keyLength = start.length == 4 + 1 + 8 + JournalFormat.HASH_LENGTH + 2
                    ? Short.toUnsignedInt(ByteBuffer.wrap(start, start.length - 2, 2).getShort()) : 0;
            byte[] rest = in.readNBytes(keyLength + 4);
            ByteBuffer header = ByteBuffer.allocate(start.length + rest.length).put(start).put(rest).flip();
            return new EntryScanner(file, in, JournalFormat.decodeHeader(file, header));
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    JournalFormat.Header header() {
        return header;
    }

    /** Where the entries read so far end. */
    long position() {
        return position;
    }

    /**
     * The next entry; null at the end of the file.
     *
     * @throws JournalDamageException when what follows is not a whole entry (cut short, or a length no entry has)
     */
    Entry next() throws IOException {
        byte[] prefix = in.readNBytes(4);
        if (prefix.length == 0) {
            return null;
        }
        if (prefix.length < 4) {
            throw new JournalDamageException(file, position, "an entry is cut short", true);
        }
        int length = ByteBuffer.wrap(prefix).getInt();
        if (length < JournalFormat.BODY_FIXED + 16 || length > JournalFormat.MAX_BODY) {
            throw new JournalDamageException(file, position, "an entry claims a body of " + length + " bytes");
        }
        byte[] body = in.readNBytes(length);
        byte[] hash = in.readNBytes(JournalFormat.HASH_LENGTH);
        if (body.length < length || hash.length < JournalFormat.HASH_LENGTH) {
            throw new JournalDamageException(file, position, "an entry is cut short", true);
        }
        ByteBuffer fixed = ByteBuffer.wrap(body);
        long seq = fixed.getLong();
        long time = fixed.getLong();
        byte[] previous = new byte[JournalFormat.HASH_LENGTH];
        fixed.get(previous);
        Entry entry = new Entry(file, position, seq, time, previous, body, hash);
        position = entry.end();
        return entry;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
