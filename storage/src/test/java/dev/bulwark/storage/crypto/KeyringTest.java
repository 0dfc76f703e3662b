package dev.bulwark.storage.crypto;

import dev.bulwark.storage.MetadataFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.SecretKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyringTest {

    private static final KeyOwner ACME = KeyOwner.tenant("acme");
    private static final KeyOwner GLOBEX = KeyOwner.tenant("globex");

    @TempDir
    Path dataDir;

    private final AesGcm gcm = new AesGcm();
    private final LocalKeyManagementService master = new LocalKeyManagementService(gcm.newKey().getEncoded(), gcm);

    @Test
    void opensTheDataKeysItCreatesAcrossRestarts() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        DataKey created = keyring.newDataKey(ACME);
        DataKey system = keyring.newDataKey(KeyOwner.SYSTEM);

        assertEquals(1, created.wrapped().kekVersion());
        assertEquals(ACME, created.wrapped().owner());
        assertSameKey(created.key(), keyring.open(ACME, created.wrapped()).key());

        Keyring reopened = Keyring.open(dataDir, master, gcm);
        WrappedDataKey fromHeader = WrappedDataKey.fromBytes(created.wrapped().toBytes());
        assertSameKey(created.key(), reopened.open(ACME, fromHeader).key());
        assertSameKey(system.key(), reopened.open(KeyOwner.SYSTEM, system.wrapped()).key());
        assertEquals(master.keyId(), reopened.masterKeyId());
    }

    @Test
    void everyDataKeyIsFresh() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);

        DataKey first = keyring.newDataKey(ACME);
        DataKey second = keyring.newDataKey(ACME);

        assertFalse(Arrays.equals(first.key().getEncoded(), second.key().getEncoded()));
        assertFalse(first.toString().contains(Integer.toString(first.key().hashCode())), first.toString());
    }

    @Test
    void aDataKeyOpensOnlyForItsOwnerAndUnchanged() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        keyring.newDataKey(GLOBEX);
        WrappedDataKey wrapped = keyring.newDataKey(ACME).wrapped();

        assertThrows(KeyUnwrapException.class, () -> keyring.open(GLOBEX, wrapped));
        byte[] bytes = wrapped.toBytes();
        for (int bit = 0; bit < bytes.length * 8; bit++) {
            byte[] bad = bytes.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            int flipped = bit;
            assertThrows(GeneralSecurityException.class, () -> {
                WrappedDataKey changed = WrappedDataKey.fromBytes(bad);
                keyring.open(changed.owner(), changed);
            }, () -> "bit " + flipped);
        }
    }

    @Test
    void aDataKeyMovedToAnotherOwnerDoesNotUnwrap() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        keyring.newDataKey(GLOBEX);
        WrappedDataKey acme = keyring.newDataKey(ACME).wrapped();

        WrappedDataKey relabelled = new WrappedDataKey(GLOBEX, 1, acme.sealed());

        assertThrows(KeyUnwrapException.class, () -> keyring.open(GLOBEX, relabelled));
    }

    @Test
    void anUnknownOwnerOrVersionIsUnavailableNotDestroyed() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        WrappedDataKey wrapped = keyring.newDataKey(ACME).wrapped();

        KeyUnavailableException unknownOwner = assertThrows(KeyUnavailableException.class,
                () -> keyring.open(GLOBEX, new WrappedDataKey(GLOBEX, 1, wrapped.sealed())));
        assertFalse(unknownOwner instanceof KeyDestroyedException);
        assertTrue(unknownOwner.getMessage().contains("no keys of owner globex"), unknownOwner.getMessage());
        KeyUnavailableException unknownVersion = assertThrows(KeyUnavailableException.class,
                () -> keyring.open(ACME, new WrappedDataKey(ACME, 7, wrapped.sealed())));
        assertFalse(unknownVersion instanceof KeyDestroyedException);
        assertEquals(OptionalInt.empty(), keyring.currentVersion(GLOBEX));
    }

    @Test
    void theWrongMasterKeyFailsFastNamingBothKeysAndWritesNothing() throws Exception {
        Keyring.open(dataDir, master, gcm).newDataKey(ACME);
        Path keys = KeysDirectory.of(dataDir);
        byte[] before = Files.readAllBytes(keys.resolve(Keyring.FILE_NAME));
        LocalKeyManagementService wrong = new LocalKeyManagementService(gcm.newKey().getEncoded(), gcm);

        WrongMasterKeyException e = assertThrows(WrongMasterKeyException.class,
                () -> Keyring.open(dataDir, wrong, gcm));

        assertTrue(e.getMessage().contains(master.keyId()) && e.getMessage().contains(wrong.keyId()), e.getMessage());
        assertEquals(master.keyId(), e.expectedKeyId());
        assertEquals(wrong.keyId(), e.givenKeyId());
        assertArrayEquals(before, Files.readAllBytes(keys.resolve(Keyring.FILE_NAME)));
        assertEquals(List.of(keys.resolve(Keyring.FILE_NAME)), files(keys));
    }

    @Test
    void aFreshKeyringIsBoundToItsMasterKeyAtOnce() throws Exception {
        Keyring.open(dataDir, master, gcm);

        LocalKeyManagementService other = new LocalKeyManagementService(gcm.newKey().getEncoded(), gcm);
        assertThrows(WrongMasterKeyException.class, () -> Keyring.open(dataDir, other, gcm));
    }

    @Test
    void aKekMovedToAnotherOwnerIsDetectedOnOpen() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        keyring.newDataKey(ACME);
        keyring.newDataKey(GLOBEX);
        Path file = KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME);
        KeyringFormat.Stored stored = KeyringFormat.read(file).orElseThrow();
        KeyringFormat.StoredOwner acme = stored.owners().get(ACME);
        KeyringFormat.StoredOwner globex = stored.owners().get(GLOBEX);
        KeyringFormat.write(file, new KeyringFormat.Stored(stored.masterKeyId(),
                new TreeMap<>(Map.of(ACME, globex, GLOBEX, acme))));
        byte[] swapped = Files.readAllBytes(file);

        KeyUnwrapException e = assertThrows(KeyUnwrapException.class, () -> Keyring.open(dataDir, master, gcm));

        assertTrue(e.getMessage().contains("tampered"), e.getMessage());
        assertArrayEquals(swapped, Files.readAllBytes(file));
    }

    @Test
    void rotationRewrapsDataKeysAndDestroyingOldVersionsLeavesNoTraceInTheKeysDirectory() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        DataKey old = keyring.newDataKey(ACME);
        byte[] oldWrappedKek = wrappedKek(ACME, 1);
        byte[] oldKek = master.unwrap(oldWrappedKek, KeyringFormat.kekAssociatedData(master.keyId(), ACME, 1));

        assertEquals(2, keyring.rotate(ACME));

        assertEquals(OptionalInt.of(2), keyring.currentVersion(ACME));
        assertEquals(2, keyring.newDataKey(ACME).wrapped().kekVersion());
        WrappedDataKey rewrapped = keyring.rewrap(old.wrapped());
        assertEquals(2, rewrapped.kekVersion());
        assertSameKey(old.key(), keyring.open(ACME, rewrapped).key());
        assertSame(rewrapped, keyring.rewrap(rewrapped));
        assertSameKey(old.key(), keyring.open(ACME, old.wrapped()).key());

        assertTrue(isIn(KeysDirectory.of(dataDir), oldWrappedKek), "the scan finds the old wrapped KEK before");

        keyring.destroyVersionsBefore(ACME, 2);

        assertDestroyed(keyring, old.wrapped());
        assertSameKey(old.key(), keyring.open(ACME, rewrapped).key());
        Keyring reopened = Keyring.open(dataDir, master, gcm);
        assertDestroyed(reopened, old.wrapped());
        assertSameKey(old.key(), reopened.open(ACME, rewrapped).key());
        assertNowhereIn(KeysDirectory.of(dataDir), oldWrappedKek, "the old wrapped KEK");
        assertNowhereIn(KeysDirectory.of(dataDir), oldKek, "the old KEK");
    }

    @Test
    void destroyingIsIdempotentAndNeverTakesTheCurrentVersion() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        keyring.newDataKey(ACME);
        keyring.rotate(ACME);
        keyring.destroyVersionsBefore(ACME, 2);
        byte[] before = Files.readAllBytes(KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME));

        keyring.destroyVersionsBefore(ACME, 2);
        keyring.destroyVersionsBefore(ACME, 1);

        assertArrayEquals(before, Files.readAllBytes(KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME)));
        assertThrows(IllegalArgumentException.class, () -> keyring.destroyVersionsBefore(ACME, 3));
        assertThrows(KeyUnavailableException.class, () -> keyring.destroyVersionsBefore(GLOBEX, 1));
    }

    @Test
    void versionsListWhatTheKeyringHoldsOfAnOwner() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        assertEquals(Optional.empty(), keyring.versions(ACME));
        keyring.newDataKey(ACME);
        keyring.rotate(ACME);
        keyring.rotate(ACME);
        assertEquals(Optional.of(new Keyring.Versions(List.of(1, 2, 3), 1)), keyring.versions(ACME));

        keyring.destroyVersionsBefore(ACME, 3);
        assertEquals(Optional.of(new Keyring.Versions(List.of(3), 3)), keyring.versions(ACME));

        keyring.shred(ACME);
        Keyring.Versions shredded = Keyring.open(dataDir, master, gcm).versions(ACME).orElseThrow();
        assertTrue(shredded.shredded());
        assertEquals(4, shredded.destroyedBelow());
    }

    @Test
    void rotatingTheMasterKeyKeepsEveryDataKeyAndRetiresTheOldMasterKey() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        DataKey acme = keyring.newDataKey(ACME);
        keyring.rotate(ACME);
        DataKey acme2 = keyring.newDataKey(ACME);
        DataKey system = keyring.newDataKey(KeyOwner.SYSTEM);
        byte[] oldWrappedKek = wrappedKek(ACME, 1);
        LocalKeyManagementService next = new LocalKeyManagementService(gcm.newKey().getEncoded(), gcm);

        keyring.rotateMaster(next);

        assertEquals(next.keyId(), keyring.masterKeyId());
        assertSameKey(acme.key(), keyring.open(ACME, acme.wrapped()).key());
        Keyring reopened = Keyring.open(dataDir, next, gcm);
        assertSameKey(acme.key(), reopened.open(ACME, acme.wrapped()).key());
        assertSameKey(acme2.key(), reopened.open(ACME, acme2.wrapped()).key());
        assertSameKey(system.key(), reopened.open(KeyOwner.SYSTEM, system.wrapped()).key());
        assertThrows(WrongMasterKeyException.class, () -> Keyring.open(dataDir, master, gcm));
        assertNowhereIn(KeysDirectory.of(dataDir), oldWrappedKek, "the KEK wrapped by the old master key");
        assertThrows(IllegalArgumentException.class, () -> reopened.rotateMaster(next));
    }

    @Test
    void aMasterKeyThatCannotUnwrapWhatItWrapsIsRefusedBeforeWriting() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        DataKey acme = keyring.newDataKey(ACME);
        byte[] before = Files.readAllBytes(KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME));
        LocalKeyManagementService next = new LocalKeyManagementService(gcm.newKey().getEncoded(), gcm);
        KeyManagementService broken = new KeyManagementService() {
            @Override
            public String keyId() {
                return next.keyId();
            }

            @Override
            public byte[] wrap(byte[] key, byte[] associatedData) {
                return next.wrap(key, associatedData);
            }

            @Override
            public byte[] unwrap(byte[] wrapped, byte[] associatedData) {
                return new byte[AesGcm.KEY_LENGTH];
            }
        };

        assertThrows(KeyUnwrapException.class, () -> keyring.rotateMaster(broken));

        assertArrayEquals(before, Files.readAllBytes(KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME)));
        assertEquals(master.keyId(), keyring.masterKeyId());
        assertSameKey(acme.key(), keyring.open(ACME, acme.wrapped()).key());
    }

    @Test
    void shreddingDestroysEveryVersionOfOneOwnerForGood() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        DataKey v1 = keyring.newDataKey(ACME);
        keyring.rotate(ACME);
        DataKey v2 = keyring.newDataKey(ACME);
        DataKey globex = keyring.newDataKey(GLOBEX);
        List<byte[]> keks = new ArrayList<>();
        for (int version = 1; version <= 2; version++) {
            byte[] wrapped = wrappedKek(ACME, version);
            keks.add(wrapped);
            keks.add(master.unwrap(wrapped, KeyringFormat.kekAssociatedData(master.keyId(), ACME, version)));
        }

        keyring.shred(ACME);

        for (Keyring view : List.of(keyring, Keyring.open(dataDir, master, gcm))) {
            assertDestroyed(view, v1.wrapped());
            assertDestroyed(view, v2.wrapped());
            assertThrows(KeyDestroyedException.class, () -> view.newDataKey(ACME));
            assertThrows(KeyDestroyedException.class, () -> view.rotate(ACME));
            assertThrows(KeyDestroyedException.class, () -> view.rewrap(v2.wrapped()));
            assertEquals(OptionalInt.empty(), view.currentVersion(ACME));
            assertSameKey(globex.key(), view.open(GLOBEX, globex.wrapped()).key());
        }
        for (byte[] secret : keks) {
            assertNowhereIn(KeysDirectory.of(dataDir), secret, "a KEK of the shredded owner");
        }
        keyring.shred(ACME);
    }

    @Test
    void anOwnerShreddedBeforeItHadKeysGetsNone() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);

        keyring.shred(ACME);

        assertThrows(KeyDestroyedException.class, () -> Keyring.open(dataDir, master, gcm).newDataKey(ACME));
    }

    /**
     * What the class comment says: a copy of {@code keys/} taken before shredding still holds the KEKs under the
     * same master key, and rotating the master key (then destroying the old one) is what makes such a copy useless.
     */
    @Test
    void aKeyringCopiedBeforeShreddingIsUselessOnceTheMasterKeyIsRotated() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        DataKey acme = keyring.newDataKey(ACME);
        Path live = KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME);
        Path copy = Files.copy(live, dataDir.resolve("keyring-backup"));

        keyring.shred(ACME);
        LocalKeyManagementService next = new LocalKeyManagementService(gcm.newKey().getEncoded(), gcm);
        keyring.rotateMaster(next);
        Files.copy(copy, live, StandardCopyOption.REPLACE_EXISTING);

        assertThrows(WrongMasterKeyException.class, () -> Keyring.open(dataDir, next, gcm));
        Keyring restoredUnderOldKey = Keyring.open(dataDir, master, gcm);
        assertSameKey(acme.key(), restoredUnderOldKey.open(ACME, acme.wrapped()).key());
    }

    @Test
    void aTemporaryFileLeftByACrashIsRemovedOnOpen() throws Exception {
        Keyring.open(dataDir, master, gcm).newDataKey(ACME);
        Path keys = KeysDirectory.of(dataDir);
        Files.write(keys.resolve(Keyring.FILE_NAME + ".tmp"), new byte[] {1, 2, 3});

        Keyring.open(dataDir, master, gcm);

        assertEquals(List.of(keys.resolve(Keyring.FILE_NAME)), files(keys));
    }

    @Test
    void aCorruptKeyringIsReportedAsCorrupt() throws Exception {
        Keyring.open(dataDir, master, gcm).newDataKey(ACME);
        Path file = KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Files.write(file, bytes);

        assertThrows(MetadataFile.CorruptFileException.class, () -> Keyring.open(dataDir, master, gcm));
    }

    @Test
    void opensWhileAnotherThreadRotates() throws Exception {
        Keyring keyring = Keyring.open(dataDir, master, gcm);
        // Version 1 exists before the race, or the first rotate could create it instead of adding one.
        keyring.newDataKey(ACME);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                readers.add(pool.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        DataKey key = keyring.newDataKey(ACME);
                        assertSameKey(key.key(), keyring.open(ACME, key.wrapped()).key());
                        assertSameKey(key.key(), keyring.open(ACME, keyring.rewrap(key.wrapped())).key());
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 10; i++) {
                keyring.rotate(ACME);
            }
            for (Future<?> reader : readers) {
                reader.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(OptionalInt.of(11), keyring.currentVersion(ACME));
    }

    private byte[] wrappedKek(KeyOwner owner, int version) throws IOException {
        Path file = KeysDirectory.of(dataDir).resolve(Keyring.FILE_NAME);
        return KeyringFormat.read(file).orElseThrow().owners().get(owner).wrappedKeks().get(version);
    }

    private static void assertDestroyed(Keyring keyring, WrappedDataKey wrapped) {
        KeyDestroyedException e = assertThrows(KeyDestroyedException.class,
                () -> keyring.open(wrapped.owner(), wrapped));
        assertTrue(e.getMessage().contains("destroyed"), e.getMessage());
    }

    private static void assertSameKey(SecretKey expected, SecretKey actual) {
        assertArrayEquals(expected.getEncoded(), actual.getEncoded());
    }

    private static void assertNowhereIn(Path directory, byte[] secret, String what) throws IOException {
        assertFalse(isIn(directory, secret), () -> what + " is in a file under " + directory);
    }

    /** Whether any file under {@code directory} holds {@code secret} at any byte offset. */
    private static boolean isIn(Path directory, byte[] secret) throws IOException {
        assertNotEquals(0, secret.length);
        for (Path file : files(directory)) {
            byte[] bytes = Files.readAllBytes(file);
            for (int i = 0; i + secret.length <= bytes.length; i++) {
                if (ByteBuffer.wrap(bytes, i, secret.length).equals(ByteBuffer.wrap(secret))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<Path> files(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
