package dev.bulwark.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A small durable file that is replaced atomically: topic metadata, checkpoints, cluster identity.
 *
 * <pre>
 * offset  length  field
 * 0       4       magic (identifies what the file holds)
 * 4       1       format version of the payload
 * 5       4       payload length N
 * 9       N       payload
 * 9+N     4       CRC32C of bytes 0 .. 9+N
 * </pre>
 *
 * Design note: a write goes to a temporary sibling, is fsynced, renamed over the target and the
 * directory is fsynced, so a reader sees the old or the new content, never a mix, across a crash.
 */
public final class MetadataFile {

    private static final int HEADER = 9;

    private MetadataFile() {
    }

    /** The payload of a file and the format version it was written with. */
    public record Content(byte version, ByteBuffer payload) {
    }

    public static void write(Path path, int magic, byte version, byte[] payload) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER + payload.length + 4);
        buffer.putInt(magic).put(version).putInt(payload.length).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(buffer.array(), 0, buffer.position());
        buffer.putInt((int) crc.getValue()).flip();

        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        try {
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + path + " cannot rename atomically", e);
        }
        syncDirectory(path.getParent());
    }

    /**
     * Reads a file written by {@link #write}; empty when it does not exist.
     *
     * @throws CorruptFileException when the magic, length or checksum do not match
     */
    public static Optional<Content> read(Path path, int magic) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        if (bytes.length < HEADER + 4 || buffer.getInt() != magic) {
            throw new CorruptFileException(path, "not a file of this kind (magic or size)");
        }
        byte version = buffer.get();
        int length = buffer.getInt();
        if (length < 0 || length != bytes.length - HEADER - 4) {
            throw new CorruptFileException(path, "payload length " + length + " does not match file size " + bytes.length);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, HEADER + length);
        if ((int) crc.getValue() != buffer.getInt(HEADER + length)) {
            throw new CorruptFileException(path, "checksum mismatch");
        }
        return Optional.of(new Content(version, ByteBuffer.wrap(bytes, HEADER, length).slice()));
    }

    /** Makes a directory entry change (create, rename, delete) durable. */
    public static void syncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** A metadata file whose bytes are not what {@link #write} produced. */
    public static final class CorruptFileException extends IOException {
        public CorruptFileException(Path path, String reason) {
            super(path + ": " + reason);
        }
    }
}
