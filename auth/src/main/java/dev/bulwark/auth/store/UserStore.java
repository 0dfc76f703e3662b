package dev.bulwark.auth.store;

import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.MetadataPayload;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.CryptoProvider;
import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Users and their SCRAM credentials (RFC 5802, RFC 7677), durable in one file of the directory given to
 * {@link #open}. Only what SCRAM needs is kept, per mechanism: salt, stored key, server key and iteration count.
 * Passwords are never stored; PLAIN logins are checked by deriving the stored key from the offered password
 * ({@link #verifyPassword}).
 *
 * <p>Users are keyed by (tenant id, name). The store does not know tenants: callers pass the id of a tenant they
 * resolved through {@link TenantStore}.
 *
 * <p>Refusals are kafka-clients' {@link org.apache.kafka.common.errors.ApiException}s so the gateway answers
 * AlterUserScramCredentials with {@code Errors.forException(e)}: {@link UnacceptableCredentialException}
 * (UNACCEPTABLE_CREDENTIAL: bad name, too few or too many iterations, empty salt, wrong salted password length),
 * {@link ResourceNotFoundException} (RESOURCE_NOT_FOUND: no such user or credential),
 * {@link DuplicateResourceException} (creating a user that exists).
 *
 * <p>File {@value #FILE_NAME}, a {@link SealedFiles} file sealed under the broker's key ({@link KeyOwner#SYSTEM})
 * with magic {@code "BWUS"} and version 2, whose sealed payload is:
 * <pre>
 * bytes   decoy secret (32 random bytes; salts shown to unknown users are derived from it, see below)
 * i32     user count
 * then per user, ordered by tenant id and name:
 *   bytes   tenant id (UTF-8)
 *   bytes   name (UTF-8)
 *   i8      role: 1 OPERATOR, 2 TENANT_ADMIN, 3 MEMBER, 4 AUDITOR
 *   i64     created, ms since the epoch
 *   i8      credential count
 *   then per credential:
 *     i8      mechanism: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512 (the type byte of the Kafka protocol)
 *     i32     iterations
 *     bytes   salt
 *     bytes   stored key
 *     bytes   server key
 * </pre>
 * ({@code bytes} is an i32 length and that many bytes.) Version 1 held this payload in the clear and is refused: no
 * released version wrote it.
 *
 * <p>Design note, decoys: a SCRAM server must send a salt and an iteration count before it can tell a right
 * password from a wrong one. For a user that does not exist, {@link #decoyCredential} gives a credential whose salt
 * is derived from the username and the decoy secret (stable across attempts and restarts, shaped like a real one)
 * and whose keys match no password, so an unknown user fails exactly where and how a wrong password fails.
 *
 * <p>Thread safety: reads are lock-free on an immutable snapshot; changes are serialized, written to the file and
 * only then made visible, so a failed write changes nothing. Password derivations (PBKDF2 with the stored
 * iteration count, milliseconds of CPU) run outside any lock.
 */
public final class UserStore {

    static final String FILE_NAME = "users";
    static final int FILE_MAGIC = 0x42575553; // "BWUS"
    static final byte FILE_VERSION = 2;

    /** Kafka's SCRAM bounds, which AlterUserScramCredentials enforces too. */
    public static final int MIN_ITERATIONS = ScramMechanism.SCRAM_SHA_256.minIterations();
    public static final int MAX_ITERATIONS = ScramMechanism.SCRAM_SHA_256.maxIterations();
    private static final int MAX_NAME_LENGTH = 128;
    private static final int DECOY_SECRET_BYTES = 32;

    private static final Logger LOG = LoggerFactory.getLogger(UserStore.class);

    /** The result of {@link #verifyPassword}. */
    public enum PasswordCheck {
        VALID,
        /** The user exists with a SCRAM credential, and the password is not its password. */
        WRONG_PASSWORD,
        /** No such user, or a user without any SCRAM credential. */
        UNKNOWN_USER
    }

    /** What {@link #bootstrapOperator} did. */
    public enum Bootstrap {
        /** The operator did not exist and was created with both SCRAM mechanisms. */
        CREATED,
        /** The user existed but lacked a mechanism, which was added; existing credentials were left alone. */
        COMPLETED,
        /** The user existed with both mechanisms: nothing changed (the password given was not checked). */
        PRESENT
    }

    private final SealedFiles sealedFiles;
    private final Path file;
    private final int iterations;
    private final Clock clock;
    private final byte[] decoySecret;
    private final CryptoProvider crypto;
    private final SecureRandom random;
    private final Map<ScramMechanism, ScramFunctions> scram = new EnumMap<>(ScramMechanism.class);
    private final Object writeLock = new Object();
    private volatile Map<Key, Entry> users;

    private UserStore(SealedFiles sealedFiles, Path file, int iterations, CryptoProvider crypto, Clock clock,
                      byte[] decoySecret, Map<Key, Entry> users) {
        this.sealedFiles = sealedFiles;
        this.file = file;
        this.iterations = iterations;
        this.crypto = crypto;
        this.random = crypto.secureRandom();
        this.clock = clock;
        this.decoySecret = decoySecret;
        this.users = users;
        for (ScramMechanism mechanism : ScramMechanism.values()) {
            scram.put(mechanism, new ScramFunctions(mechanism, crypto));
        }
    }

    /**
     * Opens the store in {@code directory} (created when missing).
     *
     * @param iterations the SCRAM iteration count for credentials derived here from a password, between
     *                   {@link #MIN_ITERATIONS} (4096) and {@link #MAX_ITERATIONS} (16384), Kafka's SCRAM bounds
     * @param sealedFiles seals the file under the broker's key
     * @param crypto      derives, checks and draws credentials and the decoy secret (the FIPS module in FIPS mode)
     * @throws MetadataFile.CorruptFileException when the file is damaged or not a user file; nothing is guessed
     * @throws SealedFiles.SealedFileException   when it does not open under the broker's key, or is unsealed
     */
    public static UserStore open(Path directory, SealedFiles sealedFiles, int iterations, CryptoProvider crypto,
                                 Clock clock) throws IOException {
        if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("SCRAM iterations must be between " + MIN_ITERATIONS + " and "
                    + MAX_ITERATIONS + ", not " + iterations);
        }
        Files.createDirectories(directory);
        Path file = directory.resolve(FILE_NAME);
        Optional<ByteBuffer> payload = sealedFiles.read(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, FILE_NAME);
        if (payload.isPresent()) {
            Loaded loaded = decode(file, payload.get());
            return new UserStore(sealedFiles, file, iterations, crypto, clock, loaded.decoySecret, loaded.users);
        }
        byte[] secret = new byte[DECOY_SECRET_BYTES];
        crypto.secureRandom().nextBytes(secret);
        UserStore store = new UserStore(sealedFiles, file, iterations, crypto, clock, secret, Map.of());
        synchronized (store.writeLock) {
            store.replace(Map.of());
        }
        return store;
    }

    /** The iteration count of credentials this store derives from passwords. */
    public int iterations() {
        return iterations;
    }

    /** SCRAM's functions for {@code mechanism}, from this store's provider: what SCRAM exchanges check proofs with. */
    public ScramFunctions scram(ScramMechanism mechanism) {
        return scram.get(mechanism);
    }

    /**
     * Checks a user name: 1 to 128 characters, no '@' (it separates user and tenant in SASL usernames), no
     * whitespace or control characters.
     *
     * @throws UnacceptableCredentialException when it breaks those rules
     */
    public static void validateName(String name) {
        if (name == null || name.isEmpty()) {
            throw new UnacceptableCredentialException("Username must not be empty");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw new UnacceptableCredentialException("Username must be at most " + MAX_NAME_LENGTH + " characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '@' || Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw new UnacceptableCredentialException("Username must not contain '@', whitespace or control "
                        + "characters");
            }
        }
    }

    /**
     * Creates a user with credentials for both SCRAM mechanisms derived from {@code password} with
     * {@link #iterations()} (so PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 all work). The password is not kept.
     *
     * @throws DuplicateResourceException      when the user exists
     * @throws UnacceptableCredentialException when the name or the password is not acceptable
     * @throws IllegalArgumentException        when asked for an operator outside the default tenant
     */
    public User create(String tenantId, String name, Role role, String password) throws IOException {
        validateName(name);
        checkRole(tenantId, role);
        requirePassword(password);
        Map<ScramMechanism, ScramCredential> credentials = deriveAll(password);
        synchronized (writeLock) {
            Key key = new Key(tenantId, name);
            if (users.containsKey(key)) {
                throw new DuplicateResourceException("user " + name + " already exists in tenant " + tenantId);
            }
            Entry entry = new Entry(key, role, clock.millis(), credentials);
            replace(with(users, entry));
            LOG.info("Created user {} in tenant {} with role {}", name, tenantId, role);
            return entry.describe();
        }
    }

    /**
     * Sets one mechanism's credential from a salted password (an AlterUserScramCredentials upsertion, KIP-554: the
     * client salted and hashed the password; the server derives the stored and server keys). Creates the user, as
     * a {@link Role#MEMBER}, when it does not exist.
     *
     * @throws UnacceptableCredentialException when the name, iterations, salt or salted password are not acceptable
     */
    public User upsertScramCredential(String tenantId, String name, ScramMechanism mechanism, byte[] salt,
                                      byte[] saltedPassword, int iterations) throws IOException {
        validateName(name);
        if (iterations < mechanism.minIterations()) {
            throw new UnacceptableCredentialException("Too few iterations: " + iterations + " is below the minimum "
                    + mechanism.minIterations() + " of " + mechanism.mechanismName());
        }
        if (iterations > mechanism.maxIterations()) {
            throw new UnacceptableCredentialException("Too many iterations: " + iterations + " is above the maximum "
                    + mechanism.maxIterations() + " of " + mechanism.mechanismName());
        }
        ScramFunctions functions = scram.get(mechanism);
        functions.checkSalt(salt);
        int hashLength = functions.hashLength();
        if (saltedPassword == null || saltedPassword.length != hashLength) {
            throw new UnacceptableCredentialException("The salted password of " + mechanism.mechanismName()
                    + " must be " + hashLength + " bytes");
        }
        ScramCredential credential = functions.credential(salt.clone(), saltedPassword, iterations);
        synchronized (writeLock) {
            Key key = new Key(tenantId, name);
            Entry existing = users.get(key);
            Entry entry = existing == null
                    ? new Entry(key, Role.MEMBER, clock.millis(), Map.of(mechanism, credential))
                    : existing.withCredential(mechanism, credential);
            replace(with(users, entry));
            LOG.info("{} user {} in tenant {}: {} credential set with {} iterations", existing == null ? "Created"
                    : "Updated", name, tenantId, mechanism.mechanismName(), iterations);
            return entry.describe();
        }
    }

    /**
     * Removes one mechanism's credential. The user stays (with its role) even when it was its last credential.
     *
     * @throws ResourceNotFoundException when the user or that credential does not exist
     */
    public User deleteScramCredential(String tenantId, String name, ScramMechanism mechanism) throws IOException {
        synchronized (writeLock) {
            Entry existing = users.get(new Key(tenantId, name));
            if (existing == null || !existing.credentials.containsKey(mechanism)) {
                throw new ResourceNotFoundException("Attempt to delete a user credential that does not exist");
            }
            Entry entry = existing.withoutCredential(mechanism);
            replace(with(users, entry));
            LOG.info("Deleted the {} credential of user {} in tenant {}", mechanism.mechanismName(), name, tenantId);
            return entry.describe();
        }
    }

    /**
     * Changes a user's role.
     *
     * @throws ResourceNotFoundException when the user does not exist
     * @throws IllegalArgumentException  when asked for an operator outside the default tenant
     */
    public User setRole(String tenantId, String name, Role role) throws IOException {
        checkRole(tenantId, role);
        synchronized (writeLock) {
            Entry existing = users.get(new Key(tenantId, name));
            if (existing == null) {
                throw new ResourceNotFoundException("no user " + name + " in tenant " + tenantId);
            }
            Entry entry = new Entry(existing.key, role, existing.createdMs, existing.credentials);
            replace(with(users, entry));
            LOG.info("User {} in tenant {} now has role {}", name, tenantId, role);
            return entry.describe();
        }
    }

    /**
     * Deletes a user and all its credentials.
     *
     * @throws ResourceNotFoundException when the user does not exist
     */
    public void delete(String tenantId, String name) throws IOException {
        synchronized (writeLock) {
            Key key = new Key(tenantId, name);
            if (!users.containsKey(key)) {
                throw new ResourceNotFoundException("no user " + name + " in tenant " + tenantId);
            }
            Map<Key, Entry> next = new HashMap<>(users);
            next.remove(key);
            replace(next);
            LOG.info("Deleted user {} in tenant {}", name, tenantId);
        }
    }

    /**
     * Deletes every user of a tenant with all its credentials (the tenant is being deleted).
     *
     * @return how many users were deleted
     */
    public int removeTenant(String tenantId) throws IOException {
        synchronized (writeLock) {
            Map<Key, Entry> next = new HashMap<>(users);
            next.keySet().removeIf(key -> key.tenantId.equals(tenantId));
            int removed = users.size() - next.size();
            if (removed > 0) {
                replace(next);
                LOG.info("Deleted the {} user(s) of tenant {}", removed, tenantId);
            }
            return removed;
        }
    }

    public Optional<User> get(String tenantId, String name) {
        return Optional.ofNullable(users.get(new Key(tenantId, name))).map(Entry::describe);
    }

    /** The users of one tenant, ordered by name: what DescribeUserScramCredentials lists. */
    public List<User> list(String tenantId) {
        return users.values().stream().filter(e -> e.key.tenantId.equals(tenantId))
                .sorted(Comparator.comparing(e -> e.key.name)).map(Entry::describe).toList();
    }

    /** Every user, ordered by tenant id and name. */
    public List<User> list() {
        return users.values().stream().sorted(Entry.ORDER).map(Entry::describe).toList();
    }

    /** A copy of the stored credential SCRAM authenticates against, or empty. */
    public Optional<ScramCredential> scramCredential(String tenantId, String name, ScramMechanism mechanism) {
        Entry entry = users.get(new Key(tenantId, name));
        ScramCredential credential = entry == null ? null : entry.credentials.get(mechanism);
        return Optional.ofNullable(credential).map(UserStore::copy);
    }

    /**
     * A credential for a user that does not exist (see the class comment): a salt derived from {@code username} and
     * the decoy secret, {@link #iterations()} iterations, and random keys that match no password.
     *
     * @param username the SASL username the client gave, as given
     */
    public ScramCredential decoyCredential(ScramMechanism mechanism, String username) {
        byte[] digest;
        try {
            Mac mac = crypto.mac("HmacSHA256");
            mac.init(new SecretKeySpec(decoySecret, "HmacSHA256"));
            mac.update(mechanism.mechanismName().getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            digest = mac.doFinal(username.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
        // Real salts (ScramFunctions.nonce) are a random 130-bit number written in base 36: so is this.
        BigInteger number = new BigInteger(1, Arrays.copyOf(digest, 17)).shiftRight(17 * 8 - 130);
        byte[] salt = number.toString(Character.MAX_RADIX).getBytes(StandardCharsets.US_ASCII);
        int length = scram.get(mechanism).hashLength();
        byte[] storedKey = new byte[length];
        byte[] serverKey = new byte[length];
        random.nextBytes(storedKey);
        random.nextBytes(serverKey);
        return new ScramCredential(salt, storedKey, serverKey, iterations);
    }

    /**
     * Checks a password (a PLAIN login) against the user's SCRAM-SHA-512 credential, or its SCRAM-SHA-256 one: the
     * salted password, client key and stored key are derived from it and the stored key is compared in constant
     * time. An unknown user costs the same derivation against a decoy.
     */
    public PasswordCheck verifyPassword(String tenantId, String name, String password) {
        Entry entry = users.get(new Key(tenantId, name));
        ScramMechanism mechanism = ScramMechanism.SCRAM_SHA_512;
        ScramCredential credential = null;
        if (entry != null) {
            credential = entry.credentials.get(ScramMechanism.SCRAM_SHA_512);
            if (credential == null) {
                mechanism = ScramMechanism.SCRAM_SHA_256;
                credential = entry.credentials.get(ScramMechanism.SCRAM_SHA_256);
            }
        }
        boolean known = credential != null;
        if (!known) {
            mechanism = ScramMechanism.SCRAM_SHA_512;
            credential = decoyCredential(mechanism, name + "@" + tenantId);
        }
        boolean match = storedKeyMatches(mechanism, credential, password == null ? "" : password);
        if (!known) {
            return PasswordCheck.UNKNOWN_USER;
        }
        return match ? PasswordCheck.VALID : PasswordCheck.WRONG_PASSWORD;
    }

    /**
     * Makes sure the operator named by {@code spec} ({@code name:password}, what {@code BULWARK_OPERATOR} holds)
     * exists in the default tenant with the operator role and credentials for both SCRAM mechanisms (which also
     * serve PLAIN). What exists is never overwritten: a missing mechanism is added, an existing credential, role or
     * password is left as it is.
     *
     * @throws IllegalArgumentException when {@code spec} is not {@code name:password} with a valid name and an
     *                                  acceptable password: not empty, in FIPS mode at least 14 bytes (the message
     *                                  never contains the password)
     */
    public Bootstrap bootstrapOperator(String spec) throws IOException {
        int colon = spec == null ? -1 : spec.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("the operator must be given as name:password");
        }
        String name = spec.substring(0, colon);
        String password = spec.substring(colon + 1);
        try {
            validateName(name);
            requirePassword(password);
        } catch (UnacceptableCredentialException e) {
            throw new IllegalArgumentException("invalid operator (name:password): " + e.getMessage(), e);
        }
        Key key = new Key(Tenant.DEFAULT_ID, name);
        Entry existing = users.get(key);
        if (existing != null && existing.credentials.keySet().containsAll(List.of(ScramMechanism.values()))) {
            return Bootstrap.PRESENT;
        }
        Map<ScramMechanism, ScramCredential> derived = deriveAll(password);
        synchronized (writeLock) {
            existing = users.get(key);
            if (existing == null) {
                replace(with(users, new Entry(key, Role.OPERATOR, clock.millis(), derived)));
                LOG.info("Created operator {}", name);
                return Bootstrap.CREATED;
            }
            Map<ScramMechanism, ScramCredential> merged = new EnumMap<>(ScramMechanism.class);
            merged.putAll(derived);
            merged.putAll(existing.credentials);
            if (merged.size() == existing.credentials.size()) {
                return Bootstrap.PRESENT;
            }
            replace(with(users, new Entry(key, existing.role, existing.createdMs, merged)));
            if (existing.role != Role.OPERATOR) {
                LOG.warn("Operator {} from the bootstrap setting exists with role {}; its role was left unchanged",
                        name, existing.role);
            }
            LOG.info("Added the missing SCRAM credentials of operator {}", name);
            return Bootstrap.COMPLETED;
        }
    }

    private Map<ScramMechanism, ScramCredential> deriveAll(String password) {
        Map<ScramMechanism, ScramCredential> credentials = new EnumMap<>(ScramMechanism.class);
        for (ScramMechanism mechanism : ScramMechanism.values()) {
            credentials.put(mechanism, scram.get(mechanism).credential(password, iterations));
        }
        return credentials;
    }

    private boolean storedKeyMatches(ScramMechanism mechanism, ScramCredential credential, String password) {
        ScramFunctions functions = scram.get(mechanism);
        byte[] saltedPassword;
        try {
            saltedPassword = functions.saltedPassword(password, credential.salt(), credential.iterations());
        } catch (UnacceptableCredentialException e) {
            return false; // in FIPS mode, a password or salt too short to derive from: it matches no credential
        }
        return MessageDigest.isEqual(functions.storedKey(functions.clientKey(saltedPassword)), credential.storedKey());
    }

    /** Operators are super users across tenants, so they belong to the default tenant (DESIGN.md, "Roles"). */
    private static void checkRole(String tenantId, Role role) {
        if (role == Role.OPERATOR && !Tenant.DEFAULT_ID.equals(tenantId)) {
            throw new IllegalArgumentException("operators belong to the default tenant, not to tenant " + tenantId);
        }
    }

    /** Not empty, and in FIPS mode long enough to derive from (the same rule for both mechanisms). */
    private void requirePassword(String password) {
        scram.get(ScramMechanism.SCRAM_SHA_512).checkPassword(password);
    }

    private static ScramCredential copy(ScramCredential c) {
        return new ScramCredential(c.salt().clone(), c.storedKey().clone(), c.serverKey().clone(), c.iterations());
    }

    private static Map<Key, Entry> with(Map<Key, Entry> users, Entry entry) {
        Map<Key, Entry> next = new HashMap<>(users);
        next.put(entry.key, entry);
        return next;
    }

    /** Writes {@code next} and then publishes it; called holding {@link #writeLock}. */
    private void replace(Map<Key, Entry> next) throws IOException {
        sealedFiles.write(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, FILE_NAME, encode(decoySecret,
                next.values()));
        users = Map.copyOf(next);
    }

    // ---- file format ----

    private static byte[] encode(byte[] decoySecret, Collection<Entry> entries) {
        List<Entry> ordered = new ArrayList<>(entries);
        ordered.sort(Entry.ORDER);
        MetadataPayload.Writer out = new MetadataPayload.Writer().bytes(decoySecret).i32(ordered.size());
        for (Entry entry : ordered) {
            out.string(entry.key.tenantId).string(entry.key.name).i8(roleCode(entry.role)).i64(entry.createdMs)
                    .i8(entry.credentials.size());
            for (Map.Entry<ScramMechanism, ScramCredential> c : entry.credentials.entrySet()) {
                out.i8(c.getKey().type()).i32(c.getValue().iterations()).bytes(c.getValue().salt())
                        .bytes(c.getValue().storedKey()).bytes(c.getValue().serverKey());
            }
        }
        return out.toByteArray();
    }

    private record Loaded(byte[] decoySecret, Map<Key, Entry> users) {
    }

    private static Loaded decode(Path file, ByteBuffer payload) throws MetadataFile.CorruptFileException {
        MetadataPayload.Reader in = new MetadataPayload.Reader(file, payload);
        byte[] secret = in.bytes();
        if (secret.length != DECOY_SECRET_BYTES) {
            throw in.corrupt("decoy secret of " + secret.length + " bytes, expected " + DECOY_SECRET_BYTES);
        }
        int count = in.count(4 + 4 + 1 + 8 + 1);
        Map<Key, Entry> users = new HashMap<>();
        for (int i = 0; i < count; i++) {
            Key key = new Key(in.string(), in.string());
            byte roleCode = in.i8();
            Role role = switch (roleCode) {
                case 1 -> Role.OPERATOR;
                case 2 -> Role.TENANT_ADMIN;
                case 3 -> Role.MEMBER;
                case 4 -> Role.AUDITOR;
                default -> throw in.corrupt("user " + key.name + " has unknown role code " + roleCode);
            };
            long createdMs = in.i64();
            int credentialCount = in.i8();
            Map<ScramMechanism, ScramCredential> credentials = new EnumMap<>(ScramMechanism.class);
            for (int c = 0; c < credentialCount; c++) {
                byte type = in.i8();
                ScramMechanism mechanism = Arrays.stream(ScramMechanism.values()).filter(m -> m.type() == type)
                        .findFirst().orElseThrow(() -> in.corrupt("user " + key.name + " has a credential of unknown "
                                + "mechanism type " + type));
                int iterations = in.i32();
                ScramCredential credential = new ScramCredential(in.bytes(), in.bytes(), in.bytes(), iterations);
                if (credentials.put(mechanism, credential) != null) {
                    throw in.corrupt("user " + key.name + " has two " + mechanism.mechanismName() + " credentials");
                }
            }
            if (users.put(key, new Entry(key, role, createdMs, credentials)) != null) {
                throw in.corrupt("user " + key.name + " of tenant " + key.tenantId + " appears twice");
            }
        }
        in.end();
        return new Loaded(secret, Map.copyOf(users));
    }

    private static int roleCode(Role role) {
        return switch (role) {
            case OPERATOR -> 1;
            case TENANT_ADMIN -> 2;
            case MEMBER -> 3;
            case AUDITOR -> 4;
        };
    }

    private record Key(String tenantId, String name) {
    }

    /** A stored user; its credentials are never handed out without a copy. */
    private static final class Entry {
        static final Comparator<Entry> ORDER = Comparator.<Entry, String>comparing(e -> e.key.tenantId)
                .thenComparing(e -> e.key.name);

        final Key key;
        final Role role;
        final long createdMs;
        final Map<ScramMechanism, ScramCredential> credentials;

        Entry(Key key, Role role, long createdMs, Map<ScramMechanism, ScramCredential> credentials) {
            this.key = key;
            this.role = role;
            this.createdMs = createdMs;
            EnumMap<ScramMechanism, ScramCredential> copy = new EnumMap<>(ScramMechanism.class);
            copy.putAll(credentials);
            this.credentials = Collections.unmodifiableMap(copy);
        }

        Entry withCredential(ScramMechanism mechanism, ScramCredential credential) {
            Map<ScramMechanism, ScramCredential> next = new EnumMap<>(ScramMechanism.class);
            next.putAll(credentials);
            next.put(mechanism, credential);
            return new Entry(key, role, createdMs, next);
        }

        Entry withoutCredential(ScramMechanism mechanism) {
            Map<ScramMechanism, ScramCredential> next = new EnumMap<>(ScramMechanism.class);
            next.putAll(credentials);
            next.remove(mechanism);
            return new Entry(key, role, createdMs, next);
        }

        User describe() {
            Map<ScramMechanism, Integer> iterations = new EnumMap<>(ScramMechanism.class);
            credentials.forEach((m, c) -> iterations.put(m, c.iterations()));
            return new User(key.tenantId, key.name, role, createdMs, iterations);
        }
    }
}
