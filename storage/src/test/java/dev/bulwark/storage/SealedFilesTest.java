package dev.bulwark.storage;

import dev.bulwark.storage.crypto.KeyDestroyedException;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.WrappedDataKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SealedFilesTest {

    private static final int MAGIC = 0x42575446; // "BWTF"
    private static final byte VERSION = 3;
    private static final KeyOwner TENANT = KeyOwner.tenant("acme");
    private static final byte[] SECRET = "group MARKER-42 of transactional id MARKER-43".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;
    private AtRestKeys keys;
    private SealedFiles files;
    private Path file;

    @BeforeEach
    void open() throws IOException {
        keys = TestKeys.open(dir);
        files = new SealedFiles(keys);
        file = dir.resolve("store");
    }

    private byte[] read(KeyOwner owner, String context) throws IOException {
        ByteBuffer payload = files.read(file, MAGIC, VERSION, owner, context).orElseThrow();
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        return bytes;
    }

    @Test
    void roundTripsAndHoldsNoPlaintext() throws IOException {
        files.write(file, MAGIC, VERSION, KeyOwner.SYSTEM, "store", SECRET);

        assertArrayEquals(SECRET, read(KeyOwner.SYSTEM, "store"));
        assertFalse(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains("MARKER"));
        assertEquals(Optional.empty(), files.read(dir.resolve("absent"), MAGIC, VERSION, KeyOwner.SYSTEM, "store"));
    }

    @Test
    void theLayoutIsTheWrappedDataKeyThenTheSealedPayload() throws Exception {
        files.write(file, MAGIC, VERSION, TENANT, "store", SECRET);

        MetadataFile.Content content = MetadataFile.read(file, MAGIC).orElseThrow();
        assertEquals(VERSION, content.version());
        ByteBuffer payload = content.payload();
        WrappedDataKey wrapped = WrappedDataKey.readFrom(payload);
        assertEquals(TENANT, wrapped.owner());
        assertEquals(keys.keyring().currentVersion(TENANT).orElseThrow(), wrapped.kekVersion());
        assertEquals(SECRET.length + 16, payload.remaining(), "ciphertext and tag, no stored nonce");
        assertEquals(TENANT, files.readAnyOwner(file, MAGIC, VERSION, "store").orElseThrow().owner());
    }

    @Test
    void everyWriteTakesAFreshDataKey() throws IOException {
        files.write(file, MAGIC, VERSION, KeyOwner.SYSTEM, "store", SECRET);
        byte[] first = Files.readAllBytes(file);
        files.write(file, MAGIC, VERSION, KeyOwner.SYSTEM, "store", SECRET);

        assertNotEquals(ByteBuffer.wrap(first), ByteBuffer.wrap(Files.readAllBytes(file)),
                "the same payload under the constant nonce must never be sealed twice under one key");
    }

    @Test
    void anotherContextOwnerOrChangedByteDoesNotOpen() throws IOException {
        files.write(file, MAGIC, VERSION, KeyOwner.SYSTEM, "users", SECRET);

        assertThrows(SealedFiles.SealedFileException.class, () -> read(KeyOwner.SYSTEM, "acls"));
        assertThrows(SealedFiles.SealedFileException.class, () -> read(TENANT, "users"));

        byte[] payload = Files.readAllBytes(file);
        payload = Arrays.copyOfRange(payload, 9, payload.length - 4);
        payload[payload.length - 20] ^= 1;
        // Rewritten through MetadataFile so that its checksum holds and the seal is what refuses the change.
        MetadataFile.write(file, MAGIC, VERSION, payload);
        assertThrows(SealedFiles.SealedFileException.class, () -> read(KeyOwner.SYSTEM, "users"));
    }

    @Test
    void anUnsealedFormatIsRefusedWithAClearMessage() throws IOException {
        MetadataFile.write(file, MAGIC, (byte) 2, SECRET);

        IOException refused = assertThrows(SealedFiles.SealedFileException.class,
                () -> read(KeyOwner.SYSTEM, "store"));
        assertTrue(refused.getMessage().contains("unsealed file from before encryption at rest"),
                refused.getMessage());
    }

    @Test
    void aShreddedOwnersFileNoLongerOpensNorIsWritten() throws Exception {
        files.write(file, MAGIC, VERSION, TENANT, "store", SECRET);
        keys.keyring().shred(TENANT);

        IOException refused = assertThrows(SealedFiles.SealedFileException.class, () -> read(TENANT, "store"));
        assertInstanceOf(KeyDestroyedException.class, refused.getCause());
        assertThrows(IOException.class, () -> files.write(file, MAGIC, VERSION, TENANT, "store", SECRET));
    }
}
