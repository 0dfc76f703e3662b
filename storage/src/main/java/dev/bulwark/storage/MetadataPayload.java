package dev.bulwark.storage;

import dev.bulwark.storage.MetadataFile.CorruptFileException;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The primitives the metadata stores' file payloads (tenants, users, ACLs, quotas) are made of, all big-endian: {@code i8}, {@code i32}, {@code i64}, and
 * byte strings as an {@code i32} length followed by that many bytes (strings are UTF-8).
 *
 * <p>Design note: a payload that passed {@link dev.bulwark.storage.MetadataFile}'s checksum can still be one this
 * code cannot read (written by a newer version, or by a bug); the reader checks every length against what is left
 * and reports the file as corrupt instead of throwing an unchecked buffer exception.
 */
public final class MetadataPayload {

    private MetadataPayload() {
    }

    public static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

        public Writer i8(int value) {
            out.write(value);
            return this;
        }

        public Writer i32(int value) {
            out.write(value >>> 24);
            out.write(value >>> 16);
            out.write(value >>> 8);
            out.write(value);
            return this;
        }

        public Writer i64(long value) {
            i32((int) (value >>> 32));
            return i32((int) value);
        }

        public Writer bytes(byte[] value) {
            i32(value.length);
            out.write(value, 0, value.length);
            return this;
        }

        public Writer string(String value) {
            return bytes(value.getBytes(StandardCharsets.UTF_8));
        }

        public byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    public static final class Reader {
        private final Path path;
        private final ByteBuffer buffer;

        public Reader(Path path, ByteBuffer buffer) {
            this.path = path;
            this.buffer = buffer;
        }

        public byte i8() throws CorruptFileException {
            need(1, "i8");
            return buffer.get();
        }

        public int i32() throws CorruptFileException {
            need(4, "i32");
            return buffer.getInt();
        }

        public long i64() throws CorruptFileException {
            need(8, "i64");
            return buffer.getLong();
        }

        /** A count of entries that each take at least {@code minEntryBytes}: bounded by what is left. */
        public int count(int minEntryBytes) throws CorruptFileException {
            int count = i32();
            if (count < 0 || (long) count * minEntryBytes > buffer.remaining()) {
                throw new CorruptFileException(path, "entry count " + count + " does not fit the "
                        + buffer.remaining() + " bytes left");
            }
            return count;
        }

        public byte[] bytes() throws CorruptFileException {
            int length = i32();
            if (length < 0) {
                throw new CorruptFileException(path, "negative length " + length + " at byte " + (buffer.position() - 4));
            }
            need(length, "byte string");
            byte[] value = new byte[length];
            buffer.get(value);
            return value;
        }

        public String string() throws CorruptFileException {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        public void end() throws CorruptFileException {
            if (buffer.hasRemaining()) {
                throw new CorruptFileException(path, buffer.remaining() + " unexpected bytes after the last entry");
            }
        }

        public CorruptFileException corrupt(String reason) {
            return new CorruptFileException(path, reason);
        }

        private void need(int bytes, String what) throws CorruptFileException {
            if (buffer.remaining() < bytes) {
                throw new CorruptFileException(path, "truncated payload: " + what + " at byte " + buffer.position()
                        + " needs " + bytes + " bytes, " + buffer.remaining() + " left");
            }
        }
    }
}
