package dev.bulwark.auth.store;

import dev.bulwark.auth.MutableClock;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.TestSealedFiles;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.CryptoProvider;
import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.apache.kafka.common.security.scram.internals.ScramMechanism.SCRAM_SHA_256;
import static org.apache.kafka.common.security.scram.internals.ScramMechanism.SCRAM_SHA_512;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UserStoreTest {

    private static final String ACME = "acme-id";
    private static final String PASSWORD = "correct horse battery staple";

    @TempDir
    Path dir;
    private SealedFiles sealed;

    @BeforeEach
    void openKeys() throws IOException {
        sealed = TestSealedFiles.in(dir);
    }

    private final MutableClock clock = new MutableClock();

    private UserStore open() throws IOException {
        return UserStore.open(dir, sealed, 4096, CryptoProvider.jdk(), clock);
    }

    @Test
    void aCreatedUserHasBothMechanismsAndNoPasswordOnDisk() throws IOException {
        UserStore store = open();
        User alice = store.create(ACME, "alice", Role.MEMBER, PASSWORD);

        assertEquals(new User(ACME, "alice", Role.MEMBER, MutableClock.START_MS,
                Map.of(SCRAM_SHA_256, 4096, SCRAM_SHA_512, 4096)), alice);
        byte[] file = Files.readAllBytes(dir.resolve("users"));
        assertFalse(contains(file, PASSWORD.getBytes(StandardCharsets.UTF_8)), "the password is never written");
        assertFalse(contains(file, "horse".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void removingATenantDeletesAllItsUsersAndNoOthers() throws IOException {
        UserStore store = open();
        store.create(ACME, "alice", Role.MEMBER, PASSWORD);
        store.create(ACME, "bob", Role.TENANT_ADMIN, PASSWORD);
        store.create("globex-id", "alice", Role.MEMBER, PASSWORD);

        assertEquals(2, store.removeTenant(ACME));
        assertEquals(0, store.removeTenant(ACME));

        assertTrue(open().list(ACME).isEmpty());
        assertEquals(1, open().list("globex-id").size());
    }

    @Test
    void usersAndCredentialsSurviveReopen() throws IOException {
        UserStore store = open();
        store.create(ACME, "alice", Role.TENANT_ADMIN, PASSWORD);
        store.create(Tenant.DEFAULT_ID, "ops", Role.OPERATOR, "other");
        ScramCredential before = store.scramCredential(ACME, "alice", SCRAM_SHA_512).orElseThrow();

        UserStore reopened = open();
        ScramCredential after = reopened.scramCredential(ACME, "alice", SCRAM_SHA_512).orElseThrow();
        assertArrayEquals(before.salt(), after.salt());
        assertArrayEquals(before.storedKey(), after.storedKey());
        assertArrayEquals(before.serverKey(), after.serverKey());
        assertEquals(before.iterations(), after.iterations());
        assertEquals(store.list(), reopened.list());
        assertEquals(UserStore.PasswordCheck.VALID, reopened.verifyPassword(ACME, "alice", PASSWORD));
    }

    @Test
    void theStoredKeyIsTheOneScramDerivesFromThePassword() throws Exception {
        UserStore store = open();
        store.create(ACME, "alice", Role.MEMBER, PASSWORD);
        for (ScramMechanism mechanism : ScramMechanism.values()) {
            ScramCredential credential = store.scramCredential(ACME, "alice", mechanism).orElseThrow();
            ScramFormatter formatter = new ScramFormatter(mechanism);
            byte[] salted = formatter.saltedPassword(PASSWORD, credential.salt(), credential.iterations());
            assertArrayEquals(formatter.storedKey(formatter.clientKey(salted)), credential.storedKey());
            assertArrayEquals(formatter.serverKey(salted), credential.serverKey());
        }
    }

    @Test
    void verifiesPlainPasswordsAgainstScramCredentials() throws IOException {
        UserStore store = open();
        store.create(ACME, "alice", Role.MEMBER, PASSWORD);

        assertEquals(UserStore.PasswordCheck.VALID, store.verifyPassword(ACME, "alice", PASSWORD));
        assertEquals(UserStore.PasswordCheck.WRONG_PASSWORD, store.verifyPassword(ACME, "alice", PASSWORD + "!"));
        assertEquals(UserStore.PasswordCheck.UNKNOWN_USER, store.verifyPassword(ACME, "bob", PASSWORD));
        assertEquals(UserStore.PasswordCheck.UNKNOWN_USER, store.verifyPassword("other", "alice", PASSWORD));

        store.deleteScramCredential(ACME, "alice", SCRAM_SHA_512);
        assertEquals(UserStore.PasswordCheck.VALID, store.verifyPassword(ACME, "alice", PASSWORD),
                "falls back to SCRAM-SHA-256");
        store.deleteScramCredential(ACME, "alice", SCRAM_SHA_256);
        assertEquals(UserStore.PasswordCheck.UNKNOWN_USER, store.verifyPassword(ACME, "alice", PASSWORD),
                "a user without credentials cannot log in with a password");
    }

    @Test
    void anUpsertFromASaltedPasswordCreatesAMember() throws Exception {
        UserStore store = open();
        ScramFormatter formatter = new ScramFormatter(SCRAM_SHA_512);
        byte[] salt = formatter.secureRandomBytes();
        byte[] salted = formatter.saltedPassword("s3cret", salt, 8192);

        User bob = store.upsertScramCredential(ACME, "bob", SCRAM_SHA_512, salt, salted, 8192);

        assertEquals(Role.MEMBER, bob.role());
        assertEquals(Map.of(SCRAM_SHA_512, 8192), bob.scramIterations());
        ScramCredential stored = open().scramCredential(ACME, "bob", SCRAM_SHA_512).orElseThrow();
        assertArrayEquals(salt, stored.salt());
        assertArrayEquals(formatter.storedKey(formatter.clientKey(salted)), stored.storedKey());
        assertEquals(UserStore.PasswordCheck.VALID, store.verifyPassword(ACME, "bob", "s3cret"));
    }

    @Test
    void anUpsertReplacesOneMechanismAndKeepsTheRole() throws Exception {
        UserStore store = open();
        store.create(ACME, "alice", Role.TENANT_ADMIN, PASSWORD);
        ScramFormatter formatter = new ScramFormatter(SCRAM_SHA_256);
        byte[] salt = formatter.secureRandomBytes();

        User alice = store.upsertScramCredential(ACME, "alice", SCRAM_SHA_256, salt,
                formatter.saltedPassword("new", salt, 4096), 4096);

        assertEquals(Role.TENANT_ADMIN, alice.role());
        assertArrayEquals(salt, store.scramCredential(ACME, "alice", SCRAM_SHA_256).orElseThrow().salt());
        assertEquals(UserStore.PasswordCheck.VALID, store.verifyPassword(ACME, "alice", PASSWORD),
                "PLAIN checks SCRAM-SHA-512, which kept the old password");
    }

    @Test
    void upsertsAreValidatedAsKafkaDoes() throws Exception {
        UserStore store = open();
        ScramFormatter formatter = new ScramFormatter(SCRAM_SHA_256);
        byte[] salt = formatter.secureRandomBytes();
        byte[] salted = formatter.saltedPassword("p", salt, 4096);

        assertThrows(UnacceptableCredentialException.class,
                () -> store.upsertScramCredential(ACME, "u", SCRAM_SHA_256, salt, salted, 4095));
        assertThrows(UnacceptableCredentialException.class,
                () -> store.upsertScramCredential(ACME, "u", SCRAM_SHA_256, salt, salted, 16385));
        assertThrows(UnacceptableCredentialException.class,
                () -> store.upsertScramCredential(ACME, "u", SCRAM_SHA_256, new byte[0], salted, 4096));
        assertThrows(UnacceptableCredentialException.class,
                () -> store.upsertScramCredential(ACME, "u", SCRAM_SHA_512, salt, salted, 4096),
                "a SHA-256 salted password is 32 bytes, SHA-512 needs 64");
        assertThrows(UnacceptableCredentialException.class,
                () -> store.upsertScramCredential(ACME, "", SCRAM_SHA_256, salt, salted, 4096));
        assertTrue(store.list().isEmpty());
    }

    @Test
    void deletingCredentialsAndUsers() throws IOException {
        UserStore store = open();
        store.create(ACME, "alice", Role.MEMBER, PASSWORD);

        assertEquals(Map.of(SCRAM_SHA_256, 4096), store.deleteScramCredential(ACME, "alice", SCRAM_SHA_512)
                .scramIterations());
        assertThrows(ResourceNotFoundException.class, () -> store.deleteScramCredential(ACME, "alice", SCRAM_SHA_512));
        assertThrows(ResourceNotFoundException.class, () -> store.deleteScramCredential(ACME, "bob", SCRAM_SHA_512));
        store.deleteScramCredential(ACME, "alice", SCRAM_SHA_256);
        assertEquals(Map.of(), open().get(ACME, "alice").orElseThrow().scramIterations(),
                "the user and its role outlive its last credential");

        store.delete(ACME, "alice");
        assertTrue(open().get(ACME, "alice").isEmpty());
        assertThrows(ResourceNotFoundException.class, () -> store.delete(ACME, "alice"));
    }

    @Test
    void usersAreKeyedByTenantAndName() throws IOException {
        UserStore store = open();
        store.create(ACME, "alice", Role.MEMBER, "a");
        store.create("globex-id", "alice", Role.TENANT_ADMIN, "b");
        store.create(ACME, "carol", Role.MEMBER, "c");
        assertThrows(DuplicateResourceException.class, () -> store.create(ACME, "alice", Role.MEMBER, "x"));

        assertEquals(List.of("alice", "carol"), store.list(ACME).stream().map(User::name).toList());
        assertEquals(Role.TENANT_ADMIN, store.get("globex-id", "alice").orElseThrow().role());
        assertEquals(UserStore.PasswordCheck.WRONG_PASSWORD, store.verifyPassword(ACME, "alice", "b"));
        assertEquals(3, store.list().size());
    }

    @Test
    void operatorsBelongToTheDefaultTenant() throws IOException {
        UserStore store = open();
        assertThrows(IllegalArgumentException.class, () -> store.create(ACME, "op", Role.OPERATOR, "p"));
        store.create(ACME, "alice", Role.MEMBER, "p");
        assertThrows(IllegalArgumentException.class, () -> store.setRole(ACME, "alice", Role.OPERATOR));
        assertEquals(Role.TENANT_ADMIN, store.setRole(ACME, "alice", Role.TENANT_ADMIN).role());
        assertEquals(Role.TENANT_ADMIN, open().get(ACME, "alice").orElseThrow().role());
        store.create(Tenant.DEFAULT_ID, "op", Role.OPERATOR, "p");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a@b", "a b", "tab\t", "nul\u0000"})
    void refusesInvalidUserNames(String name) throws IOException {
        UserStore store = open();
        assertThrows(UnacceptableCredentialException.class, () -> store.create(ACME, name, Role.MEMBER, "p"));
    }

    @Test
    void refusesEmptyPasswordsAndLongNames() throws IOException {
        UserStore store = open();
        assertThrows(UnacceptableCredentialException.class, () -> store.create(ACME, "a", Role.MEMBER, ""));
        assertThrows(UnacceptableCredentialException.class,
                () -> store.create(ACME, "n".repeat(129), Role.MEMBER, "p"));
        store.create(ACME, "n".repeat(128), Role.MEMBER, "p");
    }

    @Test
    void theIterationSettingIsBoundedAndUsed() throws IOException {
        CryptoProvider jdk = CryptoProvider.jdk();
        assertThrows(IllegalArgumentException.class, () -> UserStore.open(dir, sealed, 4095, jdk, clock));
        assertThrows(IllegalArgumentException.class, () -> UserStore.open(dir, sealed, 16385, jdk, clock));
        UserStore store = UserStore.open(dir, sealed, 5000, jdk, clock);
        assertEquals(Map.of(SCRAM_SHA_256, 5000, SCRAM_SHA_512, 5000),
                store.create(ACME, "a", Role.MEMBER, "p").scramIterations());
    }

    @Test
    void decoysLookRealAreStableAcrossReopenAndDifferPerName() throws IOException {
        UserStore store = open();
        ScramCredential decoy = store.decoyCredential(SCRAM_SHA_256, "ghost@acme");
        String salt = new String(decoy.salt(), StandardCharsets.US_ASCII);
        assertTrue(salt.matches("[0-9a-z]{20,26}"), salt);
        assertEquals(4096, decoy.iterations());
        assertEquals(32, decoy.storedKey().length);

        assertArrayEquals(decoy.salt(), open().decoyCredential(SCRAM_SHA_256, "ghost@acme").salt());
        assertFalse(Arrays.equals(decoy.salt(), store.decoyCredential(SCRAM_SHA_512, "ghost@acme").salt()));
        assertFalse(Arrays.equals(decoy.salt(), store.decoyCredential(SCRAM_SHA_256, "ghost2@acme").salt()));
        assertNotEquals(0, decoy.serverKey().length);
    }

    @Test
    void bootstrapCreatesTheOperatorOnlyWhenAbsent() throws IOException {
        UserStore store = open();
        assertEquals(UserStore.Bootstrap.CREATED, store.bootstrapOperator("root:pa:ss"));
        User root = store.get(Tenant.DEFAULT_ID, "root").orElseThrow();
        assertEquals(Role.OPERATOR, root.role());
        assertEquals(Map.of(SCRAM_SHA_256, 4096, SCRAM_SHA_512, 4096), root.scramIterations());
        assertEquals(UserStore.PasswordCheck.VALID, store.verifyPassword(Tenant.DEFAULT_ID, "root", "pa:ss"),
                "the password is everything after the first ':'");

        assertEquals(UserStore.Bootstrap.PRESENT, open().bootstrapOperator("root:changed"));
        assertEquals(UserStore.PasswordCheck.WRONG_PASSWORD,
                store.verifyPassword(Tenant.DEFAULT_ID, "root", "changed"), "an existing password is kept");

        store.deleteScramCredential(Tenant.DEFAULT_ID, "root", SCRAM_SHA_256);
        assertEquals(UserStore.Bootstrap.COMPLETED, store.bootstrapOperator("root:pa:ss"));
        assertEquals(2, store.get(Tenant.DEFAULT_ID, "root").orElseThrow().scramIterations().size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nocolon", ":secret", "root:", "a@b:secret"})
    void bootstrapRefusesMalformedSettingsWithoutEchoingThePassword(String spec) throws IOException {
        UserStore store = open();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.bootstrapOperator(spec));
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        assertTrue(store.list().isEmpty());
    }

    @Test
    void aDamagedFileIsRefusedAndNamed() throws IOException {
        open().create(ACME, "alice", Role.MEMBER, PASSWORD);
        Path file = dir.resolve("users");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 20] ^= 0x01;
        Files.write(file, bytes);

        MetadataFile.CorruptFileException e = assertThrows(MetadataFile.CorruptFileException.class, this::open);
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void anUnreadablePayloadIsRefusedClearly() throws IOException {
        Path file = dir.resolve("users");
        sealed.write(file, 0x42575553, (byte) 2, KeyOwner.SYSTEM, "users", new byte[] {0, 0, 0, 3, 1, 2, 3});
        MetadataFile.CorruptFileException e = assertThrows(MetadataFile.CorruptFileException.class, this::open);
        assertTrue(e.getMessage().contains("decoy secret of 3 bytes"), e.getMessage());
    }

    @Test
    void anUnsealedFileIsRefused() throws IOException {
        MetadataFile.write(dir.resolve("users"), 0x42575553, (byte) 1, new byte[] {0, 0, 0, 0});
        SealedFiles.SealedFileException e = assertThrows(SealedFiles.SealedFileException.class, this::open);
        assertTrue(e.getMessage().contains("unsealed file from before encryption at rest"), e.getMessage());
    }

    @Test
    void pinsTheFileFormatOfOneCredential() throws Exception {
        UserStore store = open();
        ScramFormatter formatter = new ScramFormatter(SCRAM_SHA_256);
        byte[] salt = "salt".getBytes(StandardCharsets.US_ASCII);
        byte[] salted = formatter.saltedPassword("p", salt, 4096);
        store.upsertScramCredential("t", "u", SCRAM_SHA_256, salt, salted, 4096);

        java.nio.ByteBuffer payload = sealed.read(dir.resolve("users"), 0x42575553, (byte) 2, KeyOwner.SYSTEM, "users")
                .orElseThrow();
        assertEquals(32, payload.getInt());
        payload.position(payload.position() + 32);
        assertEquals(1, payload.getInt(), "one user");
        assertEquals(1, payload.getInt());
        assertEquals('t', payload.get());
        assertEquals(1, payload.getInt());
        assertEquals('u', payload.get());
        assertEquals(3, payload.get(), "role MEMBER");
        assertEquals(MutableClock.START_MS, payload.getLong());
        assertEquals(1, payload.get(), "one credential");
        assertEquals(1, payload.get(), "SCRAM-SHA-256");
        assertEquals(4096, payload.getInt());
        assertEquals(4, payload.getInt());
        payload.position(payload.position() + 4);
        assertEquals(32, payload.getInt());
        byte[] storedKey = new byte[32];
        payload.get(storedKey);
        assertArrayEquals(formatter.storedKey(formatter.clientKey(salted)), storedKey);
        assertEquals(32, payload.getInt());
        byte[] serverKey = new byte[32];
        payload.get(serverKey);
        assertArrayEquals(formatter.serverKey(salted), serverKey);
        assertFalse(payload.hasRemaining());
    }

    @Test
    void concurrentChangesAllLand() throws Exception {
        UserStore store = open();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<User>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < 24; i++) {
                String name = "u" + i;
                futures.add(pool.submit(() -> store.create(ACME, name, Role.MEMBER, "p")));
                futures.add(pool.submit(() -> store.create("other", name, Role.MEMBER, "p")));
            }
            for (java.util.concurrent.Future<User> future : futures) {
                future.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(48, store.list().size());
        assertEquals(48, open().list().size());
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
