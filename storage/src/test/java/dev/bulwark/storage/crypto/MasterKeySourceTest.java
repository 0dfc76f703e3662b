package dev.bulwark.storage.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MasterKeySourceTest {

    private static final String ORIGIN = "environment variable BULWARK_MASTER_KEY";
    private static final byte[] KEY = LocalKeyManagementServiceTest.MASTER_KEY;
    private static final String KEY_BASE64 = Base64.getEncoder().encodeToString(KEY);

    @TempDir
    Path dir;

    private final AesGcm gcm = new AesGcm();
    private final String expectedId = new LocalKeyManagementService(KEY, gcm).keyId();

    @Test
    void readsA32ByteRawFile() throws Exception {
        Path file = Files.write(dir.resolve("master.key"), KEY);

        MasterKeySource.MasterKey key = MasterKeySource.fromFile(file, gcm);

        assertEquals(expectedId, key.kms().keyId());
        assertFalse(key.devKey());
        assertEquals("file " + file, key.origin());
    }

    @Test
    void readsABase64FileWithSurroundingWhitespace() throws Exception {
        Path file = Files.writeString(dir.resolve("master.key"), "  \n" + KEY_BASE64 + "\r\n\t");

        assertEquals(expectedId, MasterKeySource.fromFile(file, gcm).kms().keyId());
    }

    @Test
    void refusesAMissingFile() {
        Path file = dir.resolve("absent.key");

        MasterKeyException e = assertThrows(MasterKeyException.class, () -> MasterKeySource.fromFile(file, gcm));
        assertTrue(e.getMessage().contains(file + " does not exist"), e.getMessage());
    }

    @Test
    void refusesAKeyOfTheWrongLength() throws Exception {
        String shortKey = Base64.getEncoder().encodeToString(new byte[16]);
        Path file = Files.writeString(dir.resolve("master.key"), shortKey);

        MasterKeyException e = assertThrows(MasterKeyException.class, () -> MasterKeySource.fromFile(file, gcm));
        assertTrue(e.getMessage().contains("decodes to 16 bytes"), e.getMessage());
        assertFalse(e.getMessage().contains(shortKey), "no key material in the message");
    }

    @Test
    void refusesBadBase64() throws Exception {
        Path file = Files.writeString(dir.resolve("master.key"), "not base64 at all!");

        MasterKeyException e = assertThrows(MasterKeyException.class, () -> MasterKeySource.fromFile(file, gcm));
        assertTrue(e.getMessage().contains("nor valid base64"), e.getMessage());
    }

    @Test
    void refuses32BytesOfText() throws Exception {
        Path file = Files.writeString(dir.resolve("master.key"), "correct horse battery staple!!!!");

        MasterKeyException e = assertThrows(MasterKeyException.class, () -> MasterKeySource.fromFile(file, gcm));
        assertTrue(e.getMessage().contains("32 bytes of text"), e.getMessage());
    }

    @Test
    void readsTheEnvironmentVariable() throws Exception {
        MasterKeySource.MasterKey key = MasterKeySource.load(Optional.empty(), Optional.of(KEY_BASE64), ORIGIN,
                dir, gcm);

        assertEquals(expectedId, key.kms().keyId());
        assertEquals(ORIGIN, key.origin());
        assertFalse(Files.exists(dir.resolve(KeysDirectory.NAME)), "no dev key is generated");
    }

    @Test
    void refusesBadBase64InTheEnvironmentVariable() {
        MasterKeyException e = assertThrows(MasterKeyException.class, () -> MasterKeySource.load(Optional.empty(),
                Optional.of("%%%"), ORIGIN, dir, gcm));
        assertTrue(e.getMessage().contains(ORIGIN), e.getMessage());
    }

    @Test
    void refusesAKeyConfiguredTwice() throws Exception {
        Path file = Files.write(dir.resolve("master.key"), KEY);

        MasterKeyException e = assertThrows(MasterKeyException.class, () -> MasterKeySource.load(Optional.of(file),
                Optional.of(KEY_BASE64), ORIGIN, dir, gcm));
        assertTrue(e.getMessage().contains("configured twice"), e.getMessage());
    }

    @Test
    void aConfiguredFileWins() throws Exception {
        Path file = Files.write(dir.resolve("master.key"), KEY);

        assertEquals(expectedId, MasterKeySource.load(Optional.of(file), Optional.empty(), ORIGIN, dir, gcm).kms().keyId());
    }

    @Test
    void generatesADevKeyOnFirstStartAndReusesItAfter() throws Exception {
        MasterKeySource.MasterKey first = MasterKeySource.load(Optional.empty(), Optional.empty(), ORIGIN, dir, gcm);

        Path file = dir.resolve("keys").resolve(MasterKeySource.DEV_KEY_FILE);
        assertTrue(first.devKey());
        assertTrue(first.origin().contains(file.toString()) && first.origin().contains("generated"), first.origin());
        assertEquals(32, Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).strip()).length);
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        }

        MasterKeySource.MasterKey again = MasterKeySource.load(Optional.empty(), Optional.empty(), ORIGIN, dir, gcm);

        assertEquals(first.kms().keyId(), again.kms().keyId());
        assertTrue(again.devKey());
        assertFalse(again.origin().contains("generated"), again.origin());
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left");
        }
    }

    @Test
    void noDevKeyIsGeneratedBesideAKeyringWrittenUnderAConfiguredKey() throws Exception {
        Path file = Files.write(dir.resolve("master.key"), KEY);
        Keyring.open(dir, MasterKeySource.fromFile(file, gcm).kms(), gcm);
        Path keys = dir.resolve(KeysDirectory.NAME);
        List<Path> before;
        try (var files = Files.list(keys)) {
            before = files.toList();
        }

        MasterKeyException e = assertThrows(MasterKeyException.class,
                () -> MasterKeySource.load(Optional.empty(), Optional.empty(), ORIGIN, dir, gcm));

        assertTrue(e.getMessage().contains("configure it"), e.getMessage());
        try (var files = Files.list(keys)) {
            assertEquals(before, files.toList(), "nothing is written into the keys directory");
        }
    }

    @Test
    void aCorruptDevKeyIsRefusedNotReplaced() throws Exception {
        Path file = dir.resolve("keys").resolve(MasterKeySource.DEV_KEY_FILE);
        Files.createDirectories(file.getParent());
        Files.writeString(file, "truncated");

        assertThrows(MasterKeyException.class, () -> MasterKeySource.devKey(dir, gcm));
        assertEquals("truncated", Files.readString(file));
    }
}
