package dev.bulwark.auth.store;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.TenantLimits;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.MetadataPayload;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The tenants, durable in one file of the directory given to {@link #open}.
 *
 * <p>The built-in default tenant ({@link Tenant#DEFAULT_ID}, {@link Tenant#DEFAULT_NAME}) always exists and is
 * always active: operators belong to it, so suspending it would lock everyone out.
 *
 * <p>A tenant created without saying otherwise has no limits and denies what no ACL allows
 * ({@code allowEveryoneIfNoAcl} false, as DESIGN.md's "no ACL means deny"). The default tenant allows it: it holds the
 * anonymous clients of PLAINTEXT listeners, which have no ACLs to be granted by.
 *
 * <p>File {@value #FILE_NAME}, a {@link SealedFiles} file sealed under the broker's key ({@link KeyOwner#SYSTEM})
 * with magic {@code "BWTN"} and version 3, whose sealed payload is:
 * <pre>
 * i32     tenant count
 * then per tenant, ordered by name:
 *   bytes   id (UTF-8; a Kafka Uuid string, or "default")
 *   bytes   name (UTF-8)
 *   i8      state: 1 ACTIVE, 2 SUSPENDED
 *   i64     created, ms since the epoch
 *   i8      allow everyone if no ACL: 0 no, 1 yes
 *   i32     max topics, -1 for no limit
 *   i32     max partitions, -1 for no limit
 *   i64     max stored bytes, -1 for no limit
 *   i32     max connections, -1 for no limit
 * </pre>
 * ({@code bytes} is an i32 length and that many bytes.) Versions 1 and 2 held their payload in the clear and are
 * refused: no released version wrote them.
 *
 * <p>Thread safety: reads are lock-free on an immutable snapshot; changes are serialized, written to the file and
 * only then made visible, so a failed write changes nothing.
 */
public final class TenantStore {

    static final String FILE_NAME = "tenants";
    static final int FILE_MAGIC = 0x4257544E; // "BWTN"
    static final byte FILE_VERSION = 3;

    /** Like a Kafka topic name without '.', which Bulwark keeps for its own separators; at most 64 characters. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final int STATE_ACTIVE = 1;
    private static final int STATE_SUSPENDED = 2;
    private static final int STATE_DELETING = 3;
    private static final int NO_LIMIT = -1;

    private static final Logger LOG = LoggerFactory.getLogger(TenantStore.class);

    private final SealedFiles sealedFiles;
    private final Path file;
    private final Clock clock;
    private final Object writeLock = new Object();
    private volatile Snapshot snapshot;

    private TenantStore(SealedFiles sealedFiles, Path file, Clock clock, Snapshot snapshot) {
        this.sealedFiles = sealedFiles;
        this.file = file;
        this.clock = clock;
        this.snapshot = snapshot;
    }

    /**
     * Opens the store in {@code directory} (created when missing), writing the default tenant on first use.
     *
     * @param sealedFiles seals the file under the broker's key
     * @throws MetadataFile.CorruptFileException when the file is damaged or not a tenant file; nothing is guessed
     * @throws SealedFiles.SealedFileException   when it does not open under the broker's key, or is unsealed
     */
    public static TenantStore open(Path directory, SealedFiles sealedFiles, Clock clock) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(FILE_NAME);
        List<Tenant> tenants = read(sealedFiles, file);
        TenantStore store = new TenantStore(sealedFiles, file, clock, Snapshot.of(tenants));
        if (store.snapshot.byId.get(Tenant.DEFAULT_ID) == null) {
            synchronized (store.writeLock) {
                List<Tenant> withDefault = new ArrayList<>(tenants);
                withDefault.add(new Tenant(Tenant.DEFAULT_ID, Tenant.DEFAULT_NAME, Tenant.State.ACTIVE, clock.millis(),
                        TenantLimits.UNLIMITED, true));
                store.replace(withDefault);
            }
        }
        return store;
    }

    /** Checks a tenant name: 1 to 64 of ASCII letters, digits, '_' and '-'. */
    public static void validateName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid tenant name '" + name
                    + "': use 1 to 64 of the characters a-z, A-Z, 0-9, '_' and '-'");
        }
    }

    /**
     * Creates an active tenant with a fresh id, no limits, and no access where no ACL allows it.
     *
     * @throws IllegalArgumentException   when the name breaks {@link #validateName the rules}
     * @throws DuplicateResourceException when a tenant of that name exists
     */
    public Tenant create(String name) throws IOException {
        return create(name, TenantLimits.UNLIMITED, false);
    }

    /**
     * Creates an active tenant with a fresh id, the given limits and no-ACL rule.
     *
     * @throws IllegalArgumentException   when the name breaks {@link #validateName the rules}
     * @throws DuplicateResourceException when a tenant of that name exists
     */
    public Tenant create(String name, TenantLimits limits, boolean allowEveryoneIfNoAcl) throws IOException {
        validateName(name);
        Objects.requireNonNull(limits, "limits");
        synchronized (writeLock) {
            Snapshot current = snapshot;
            if (current.byName.containsKey(name)) {
                throw new DuplicateResourceException("tenant '" + name + "' already exists");
            }
            String id;
            do {
                id = Uuid.randomUuid().toString();
            } while (current.byId.containsKey(id));
            Tenant tenant = new Tenant(id, name, Tenant.State.ACTIVE, clock.millis(), limits, allowEveryoneIfNoAcl);
            List<Tenant> tenants = new ArrayList<>(current.byId.values());
            tenants.add(tenant);
            replace(tenants);
            LOG.info("Created tenant {} ({}) with limits ({}), allowEveryoneIfNoAcl {}", name, id, limits,
                    allowEveryoneIfNoAcl);
            return tenant;
        }
    }

    public Optional<Tenant> byId(String id) {
        return Optional.ofNullable(snapshot.byId.get(id));
    }

    public Optional<Tenant> byName(String name) {
        return Optional.ofNullable(snapshot.byName.get(name));
    }

    /** Every tenant, the default one included, ordered by name. */
    public List<Tenant> list() {
        return snapshot.ordered;
    }

    /**
     * Sets a tenant's state; setting the state it already has changes nothing.
     *
     * @throws ResourceNotFoundException when no tenant has that id
     * @throws IllegalArgumentException  when asked to suspend the default tenant
     */
    public Tenant setState(String id, Tenant.State state) throws IOException {
        if (state == Tenant.State.DELETING) {
            throw new IllegalArgumentException("a tenant is deleted with markDeleting and delete");
        }
        synchronized (writeLock) {
            Tenant tenant = existing(id);
            if (tenant.state() == state) {
                return tenant;
            }
            if (tenant.isDefault()) {
                throw new IllegalArgumentException("the default tenant is always active");
            }
            if (tenant.state() == Tenant.State.DELETING) {
                throw new IllegalArgumentException("tenant " + tenant.name() + " is being deleted");
            }
            Tenant changed = tenant.withState(state);
            store(changed);
            LOG.info("Tenant {} ({}) is now {}", tenant.name(), id, state);
            return changed;
        }
    }

    /**
     * The first step of deleting a tenant, durable when this returns: from now on nobody authenticates into it, and
     * it stays {@link Tenant.State#DELETING} until {@link #delete} removes it. Marking a tenant that is already being
     * deleted changes nothing (a deletion retried after a crash).
     *
     * @throws ResourceNotFoundException when no tenant has that id
     * @throws IllegalArgumentException  for the default tenant, which is never deleted
     */
    public Tenant markDeleting(String id) throws IOException {
        synchronized (writeLock) {
            Tenant tenant = existing(id);
            if (tenant.isDefault()) {
                throw new IllegalArgumentException("the default tenant is never deleted");
            }
            if (tenant.state() == Tenant.State.DELETING) {
                return tenant;
            }
            Tenant changed = tenant.withState(Tenant.State.DELETING);
            store(changed);
            LOG.info("Tenant {} ({}) is being deleted", tenant.name(), id);
            return changed;
        }
    }

    /**
     * The last step of deleting a tenant: removes its record, once everything it held is gone. Its name can then be
     * given to a new tenant, which gets a new id.
     *
     * @throws ResourceNotFoundException when no tenant has that id
     * @throws IllegalStateException     when it was not {@link #markDeleting marked} first
     */
    public void delete(String id) throws IOException {
        synchronized (writeLock) {
            Tenant tenant = existing(id);
            if (tenant.state() != Tenant.State.DELETING) {
                throw new IllegalStateException("tenant " + tenant.name() + " is deleted only after markDeleting");
            }
            List<Tenant> tenants = new ArrayList<>(snapshot.byId.values());
            tenants.removeIf(t -> t.id().equals(id));
            replace(tenants);
            LOG.info("Tenant {} ({}) deleted", tenant.name(), id);
        }
    }

    /**
     * Replaces a tenant's limits. Lowering a limit below what the tenant holds takes nothing away: it refuses what
     * would add to it.
     *
     * @throws ResourceNotFoundException when no tenant has that id
     */
    public Tenant setLimits(String id, TenantLimits limits) throws IOException {
        Objects.requireNonNull(limits, "limits");
        synchronized (writeLock) {
            Tenant tenant = existing(id);
            if (tenant.limits().equals(limits)) {
                return tenant;
            }
            Tenant changed = tenant.withLimits(limits);
            store(changed);
            LOG.info("Tenant {} ({}) now has limits ({})", tenant.name(), id, limits);
            return changed;
        }
    }

    /**
     * Sets whether a resource of the tenant that no ACL names is open to all its principals.
     *
     * @throws ResourceNotFoundException when no tenant has that id
     */
    public Tenant setAllowEveryoneIfNoAcl(String id, boolean allow) throws IOException {
        synchronized (writeLock) {
            Tenant tenant = existing(id);
            if (tenant.allowEveryoneIfNoAcl() == allow) {
                return tenant;
            }
            Tenant changed = tenant.withAllowEveryoneIfNoAcl(allow);
            store(changed);
            LOG.info("Tenant {} ({}) now has allowEveryoneIfNoAcl {}", tenant.name(), id, allow);
            return changed;
        }
    }

    /** Called under the write lock. */
    private Tenant existing(String id) {
        Tenant tenant = snapshot.byId.get(id);
        if (tenant == null) {
            throw new ResourceNotFoundException("no tenant has id " + id);
        }
        return tenant;
    }

    /** Replaces the tenant of {@code changed}'s id; called under the write lock. */
    private void store(Tenant changed) throws IOException {
        List<Tenant> tenants = new ArrayList<>(snapshot.byId.values());
        tenants.replaceAll(t -> t.id().equals(changed.id()) ? changed : t);
        replace(tenants);
    }

    private void replace(List<Tenant> tenants) throws IOException {
        Snapshot next = Snapshot.of(tenants);
        write(sealedFiles, file, next.ordered);
        snapshot = next;
    }

    private static void write(SealedFiles sealedFiles, Path file, List<Tenant> tenants) throws IOException {
        MetadataPayload.Writer out = new MetadataPayload.Writer().i32(tenants.size());
        for (Tenant tenant : tenants) {
            out.string(tenant.id()).string(tenant.name())
                    .i8(switch (tenant.state()) {
                        case ACTIVE -> STATE_ACTIVE;
                        case SUSPENDED -> STATE_SUSPENDED;
                        case DELETING -> STATE_DELETING;
                    })
                    .i64(tenant.createdMs())
                    .i8(tenant.allowEveryoneIfNoAcl() ? 1 : 0);
            TenantLimits limits = tenant.limits();
            out.i32(limits.maxTopics().orElse(NO_LIMIT))
                    .i32(limits.maxPartitions().orElse(NO_LIMIT))
                    .i64(limits.maxStoredBytes().orElse(NO_LIMIT))
                    .i32(limits.maxConnections().orElse(NO_LIMIT));
        }
        sealedFiles.write(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, FILE_NAME, out.toByteArray());
    }

    private static List<Tenant> read(SealedFiles sealedFiles, Path file) throws IOException {
        Optional<ByteBuffer> payload = sealedFiles.read(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, FILE_NAME);
        if (payload.isEmpty()) {
            return List.of();
        }
        MetadataPayload.Reader in = new MetadataPayload.Reader(file, payload.get());
        int count = in.count(4 + 4 + 1 + 8 + 1 + 4 + 4 + 8 + 4);
        List<Tenant> tenants = new ArrayList<>(count);
        Set<String> seenIds = new HashSet<>();
        Set<String> seenNames = new HashSet<>();
        for (int i = 0; i < count; i++) {
            String id = in.string();
            String name = in.string();
            byte stateCode = in.i8();
            Tenant.State state = switch (stateCode) {
                case STATE_ACTIVE -> Tenant.State.ACTIVE;
                case STATE_SUSPENDED -> Tenant.State.SUSPENDED;
                case STATE_DELETING -> Tenant.State.DELETING;
                default -> throw in.corrupt("tenant " + name + " has unknown state code " + stateCode);
            };
            long createdMs = in.i64();
            byte allowCode = in.i8();
            if (allowCode != 0 && allowCode != 1) {
                throw in.corrupt("tenant " + name + " has allow-everyone code " + allowCode);
            }
            boolean allowEveryoneIfNoAcl = allowCode == 1;
            TenantLimits limits = readLimits(in, name);
            if (!seenIds.add(id) || !seenNames.add(name)) {
                throw in.corrupt("tenant name or id appears twice: " + name + " (" + id + ")");
            }
            tenants.add(new Tenant(id, name, state, createdMs, limits, allowEveryoneIfNoAcl));
        }
        in.end();
        return tenants;
    }

    private static TenantLimits readLimits(MetadataPayload.Reader in, String name) throws IOException {
        int maxTopics = in.i32();
        int maxPartitions = in.i32();
        long maxStoredBytes = in.i64();
        int maxConnections = in.i32();
        try {
            return new TenantLimits(intLimit(maxTopics), intLimit(maxPartitions),
                    maxStoredBytes == NO_LIMIT ? OptionalLong.empty() : OptionalLong.of(maxStoredBytes),
                    intLimit(maxConnections));
        } catch (IllegalArgumentException e) {
            throw in.corrupt("tenant " + name + ": " + e.getMessage());
        }
    }

    private static OptionalInt intLimit(int value) {
        return value == NO_LIMIT ? OptionalInt.empty() : OptionalInt.of(value);
    }

    private record Snapshot(Map<String, Tenant> byId, Map<String, Tenant> byName, List<Tenant> ordered) {
        static Snapshot of(List<Tenant> tenants) {
            Map<String, Tenant> byId = new HashMap<>();
            Map<String, Tenant> byName = new HashMap<>();
            for (Tenant tenant : tenants) {
                byId.put(tenant.id(), tenant);
                byName.put(tenant.name(), tenant);
            }
            List<Tenant> ordered = new ArrayList<>(tenants);
            ordered.sort(Comparator.comparing(Tenant::name));
            return new Snapshot(Map.copyOf(byId), Map.copyOf(byName), List.copyOf(ordered));
        }
    }
}
