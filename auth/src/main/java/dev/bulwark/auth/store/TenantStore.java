package dev.bulwark.auth.store;

import dev.bulwark.auth.Tenant;
import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.MetadataPayload;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The tenants, durable in one file of the directory given to {@link #open}.
 *
 * <p>The built-in default tenant ({@link Tenant#DEFAULT_ID}, {@link Tenant#DEFAULT_NAME}) always exists and is
 * always active: operators belong to it, so suspending it would lock everyone out.
 *
 * <p>File {@value #FILE_NAME}, a {@link MetadataFile} with magic {@code "BWTN"} and payload version 1:
 * <pre>
 * i32     tenant count
 * then per tenant, ordered by name:
 *   bytes   id (UTF-8; a Kafka Uuid string, or "default")
 *   bytes   name (UTF-8)
 *   i8      state: 1 ACTIVE, 2 SUSPENDED
 *   i64     created, ms since the epoch
 * </pre>
 * ({@code bytes} is an i32 length and that many bytes.)
 *
 * <p>Thread safety: reads are lock-free on an immutable snapshot; changes are serialized, written to the file and
 * only then made visible, so a failed write changes nothing.
 */
public final class TenantStore {

    static final String FILE_NAME = "tenants";
    static final int FILE_MAGIC = 0x4257544E; // "BWTN"
    static final byte FILE_VERSION = 1;

    /** Like a Kafka topic name without '.', which Bulwark keeps for its own separators; at most 64 characters. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final int STATE_ACTIVE = 1;
    private static final int STATE_SUSPENDED = 2;

    private static final Logger LOG = LoggerFactory.getLogger(TenantStore.class);

    private final Path file;
    private final Clock clock;
    private final Object writeLock = new Object();
    private volatile Snapshot snapshot;

    private TenantStore(Path file, Clock clock, Snapshot snapshot) {
        this.file = file;
        this.clock = clock;
        this.snapshot = snapshot;
    }

    /**
     * Opens the store in {@code directory} (created when missing), writing the default tenant on first use.
     *
     * @throws MetadataFile.CorruptFileException when the file is damaged or not a tenant file; nothing is guessed
     */
    public static TenantStore open(Path directory, Clock clock) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(FILE_NAME);
        List<Tenant> tenants = read(file);
        TenantStore store = new TenantStore(file, clock, Snapshot.of(tenants));
        if (store.snapshot.byId.get(Tenant.DEFAULT_ID) == null) {
            synchronized (store.writeLock) {
                List<Tenant> withDefault = new ArrayList<>(tenants);
                withDefault.add(new Tenant(Tenant.DEFAULT_ID, Tenant.DEFAULT_NAME, Tenant.State.ACTIVE, clock.millis()));
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
     * Creates an active tenant with a fresh id.
     *
     * @throws IllegalArgumentException   when the name breaks {@link #validateName the rules}
     * @throws DuplicateResourceException when a tenant of that name exists
     */
    public Tenant create(String name) throws IOException {
        validateName(name);
        synchronized (writeLock) {
            Snapshot current = snapshot;
            if (current.byName.containsKey(name)) {
                throw new DuplicateResourceException("tenant '" + name + "' already exists");
            }
            String id;
            do {
                id = Uuid.randomUuid().toString();
            } while (current.byId.containsKey(id));
            Tenant tenant = new Tenant(id, name, Tenant.State.ACTIVE, clock.millis());
            List<Tenant> tenants = new ArrayList<>(current.byId.values());
            tenants.add(tenant);
            replace(tenants);
            LOG.info("Created tenant {} ({})", name, id);
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
        synchronized (writeLock) {
            Snapshot current = snapshot;
            Tenant tenant = current.byId.get(id);
            if (tenant == null) {
                throw new ResourceNotFoundException("no tenant has id " + id);
            }
            if (tenant.state() == state) {
                return tenant;
            }
            if (tenant.isDefault()) {
                throw new IllegalArgumentException("the default tenant is always active");
            }
            Tenant changed = new Tenant(tenant.id(), tenant.name(), state, tenant.createdMs());
            List<Tenant> tenants = new ArrayList<>(current.byId.values());
            tenants.replaceAll(t -> t.id().equals(id) ? changed : t);
            replace(tenants);
            LOG.info("Tenant {} ({}) is now {}", tenant.name(), id, state);
            return changed;
        }
    }

    private void replace(List<Tenant> tenants) throws IOException {
        Snapshot next = Snapshot.of(tenants);
        write(file, next.ordered);
        snapshot = next;
    }

    private static void write(Path file, List<Tenant> tenants) throws IOException {
        MetadataPayload.Writer out = new MetadataPayload.Writer().i32(tenants.size());
        for (Tenant tenant : tenants) {
            out.string(tenant.id()).string(tenant.name())
                    .i8(tenant.state() == Tenant.State.ACTIVE ? STATE_ACTIVE : STATE_SUSPENDED)
                    .i64(tenant.createdMs());
        }
        MetadataFile.write(file, FILE_MAGIC, FILE_VERSION, out.toByteArray());
    }

    private static List<Tenant> read(Path file) throws IOException {
        Optional<MetadataFile.Content> content = MetadataFile.read(file, FILE_MAGIC);
        if (content.isEmpty()) {
            return List.of();
        }
        if (content.get().version() != FILE_VERSION) {
            throw new MetadataFile.CorruptFileException(file, "unsupported tenant file version "
                    + content.get().version() + " (this version reads " + FILE_VERSION + ")");
        }
        MetadataPayload.Reader in = new MetadataPayload.Reader(file, content.get().payload());
        int count = in.count(4 + 4 + 1 + 8);
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
                default -> throw in.corrupt("tenant " + name + " has unknown state code " + stateCode);
            };
            long createdMs = in.i64();
            if (!seenIds.add(id) || !seenNames.add(name)) {
                throw in.corrupt("tenant name or id appears twice: " + name + " (" + id + ")");
            }
            tenants.add(new Tenant(id, name, state, createdMs));
        }
        in.end();
        return tenants;
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
