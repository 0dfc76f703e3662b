package dev.bulwark.acl.quota;

import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.MetadataPayload;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The quotas set on every entity, durable in one file of the directory given to {@link #open}.
 *
 * <p>File {@value #FILE_NAME}, a {@link SealedFiles} file sealed under the broker's key ({@link KeyOwner#SYSTEM})
 * with magic {@code "BWQT"} and version 2, whose sealed payload is:
 * <pre>
 * i32     entry count
 * then per entry:
 *   i8      entity type: 1 user / client-id, 2 ip, 3 tenant
 *   type 1: bytes tenant id, name user, name client id
 *   type 2: name address
 *   type 3: bytes tenant id
 *   i32     quota count (at least 1)
 *   then per quota:
 *     i8      kind: 1 producer_byte_rate, 2 consumer_byte_rate, 3 request_percentage, 4 connection_creation_rate
 *     i64     the value, an IEEE 754 double's bits
 * </pre>
 * where {@code bytes} is an i32 length and that many bytes (UTF-8), and {@code name} is an i8 (0 absent, 1 the
 * {@code <default>}, 2 a name) followed, for 2 only, by the name as {@code bytes}.
 *
 * <p>Thread safety: reads are lock-free on an immutable {@link QuotaSnapshot}; changes are serialized, written to the
 * file and only then made visible, so a failed write changes nothing.
 */
public final class QuotaStore {

    static final String FILE_NAME = "quotas";
    static final int FILE_MAGIC = 0x42575154; // "BWQT"
    static final byte FILE_VERSION = 2;

    private static final int TYPE_CLIENT = 1;
    private static final int TYPE_IP = 2;
    private static final int TYPE_TENANT = 3;
    private static final int NAME_ABSENT = 0;
    private static final int NAME_DEFAULT = 1;
    private static final int NAME_GIVEN = 2;

    private static final Logger LOG = LoggerFactory.getLogger(QuotaStore.class);

    /** One quota set (a value) or removed (null) on one entity. */
    public record Alteration(QuotaEntity entity, QuotaKind kind, Double value) {
    }

    private final SealedFiles sealedFiles;
    private final Path file;
    private final Object writeLock = new Object();
    private volatile QuotaSnapshot snapshot;

    private QuotaStore(SealedFiles sealedFiles, Path file, QuotaSnapshot snapshot) {
        this.sealedFiles = sealedFiles;
        this.file = file;
        this.snapshot = snapshot;
    }

    /**
     * Opens the store in {@code directory} (created when missing).
     *
     * @param sealedFiles seals the file under the broker's key
     * @throws MetadataFile.CorruptFileException when the file is damaged or not a quota file; nothing is guessed
     * @throws SealedFiles.SealedFileException   when it does not open under the broker's key, or is unsealed
     */
    public static QuotaStore open(Path directory, SealedFiles sealedFiles) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(FILE_NAME);
        return new QuotaStore(sealedFiles, file, new QuotaSnapshot(0, read(sealedFiles, file)));
    }

    /** The quotas now; the same object until the next change. */
    public QuotaSnapshot snapshot() {
        return snapshot;
    }

    /**
     * Applies all alterations at once, or none when the file cannot be written.
     *
     * @throws IllegalArgumentException for a value that is not a positive finite number
     */
    public void alter(List<Alteration> alterations) throws IOException {
        synchronized (writeLock) {
            QuotaSnapshot current = snapshot;
            Map<QuotaEntity, QuotaLimits> next = new HashMap<>(current.entries());
            for (Alteration alteration : alterations) {
                QuotaLimits limits = next.getOrDefault(alteration.entity(), QuotaLimits.NONE)
                        .with(alteration.kind(), alteration.value());
                put(next, alteration.entity(), limits);
            }
            publish(current, next);
            LOG.info("Quotas altered: {}", alterations);
        }
    }

    /** Replaces every quota of {@code entity} by {@code limits} (none left when empty). */
    public void replace(QuotaEntity entity, QuotaLimits limits) throws IOException {
        synchronized (writeLock) {
            QuotaSnapshot current = snapshot;
            Map<QuotaEntity, QuotaLimits> next = new HashMap<>(current.entries());
            put(next, entity, limits);
            publish(current, next);
            LOG.info("Quotas of {} are now {}", entity, limits);
        }
    }

    /**
     * Removes every quota of a tenant: its users' and client ids', and the tenant's own (the tenant is being
     * deleted).
     *
     * @return how many entities lost their quotas
     */
    public int removeTenant(String tenantId) throws IOException {
        synchronized (writeLock) {
            QuotaSnapshot current = snapshot;
            Map<QuotaEntity, QuotaLimits> next = new HashMap<>(current.entries());
            next.keySet().removeIf(entity -> entity instanceof QuotaEntity.Client client
                    && client.tenantId().equals(tenantId)
                    || entity instanceof QuotaEntity.Tenant tenant && tenant.tenantId().equals(tenantId));
            int removed = current.entries().size() - next.size();
            if (removed > 0) {
                publish(current, next);
                LOG.info("Removed the quotas of {} entit(ies) of tenant {}", removed, tenantId);
            }
            return removed;
        }
    }

    private static void put(Map<QuotaEntity, QuotaLimits> entries, QuotaEntity entity, QuotaLimits limits) {
        if (limits.isEmpty()) {
            entries.remove(entity);
        } else {
            entries.put(entity, limits);
        }
    }

    private void publish(QuotaSnapshot current, Map<QuotaEntity, QuotaLimits> next) throws IOException {
        write(sealedFiles, file, next);
        snapshot = new QuotaSnapshot(current.generation() + 1, next);
    }

    private static void write(SealedFiles sealedFiles, Path file, Map<QuotaEntity, QuotaLimits> entries) throws IOException {
        MetadataPayload.Writer out = new MetadataPayload.Writer().i32(entries.size());
        for (Map.Entry<QuotaEntity, QuotaLimits> entry : entries.entrySet()) {
            QuotaEntity entity = entry.getKey();
            if (entity instanceof QuotaEntity.Client client) {
                out.i8(TYPE_CLIENT).string(client.tenantId());
                name(out, client.user());
                name(out, client.clientId());
            } else if (entity instanceof QuotaEntity.Ip ip) {
                out.i8(TYPE_IP);
                name(out, ip.address());
            } else {
                out.i8(TYPE_TENANT).string(((QuotaEntity.Tenant) entity).tenantId());
            }
            Map<QuotaKind, Double> values = entry.getValue().asMap();
            out.i32(values.size());
            values.forEach((kind, value) -> out.i8(kind.code()).i64(Double.doubleToLongBits(value)));
        }
        sealedFiles.write(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, FILE_NAME, out.toByteArray());
    }

    private static void name(MetadataPayload.Writer out, EntityName name) {
        if (name == null) {
            out.i8(NAME_ABSENT);
        } else if (name.isDefault()) {
            out.i8(NAME_DEFAULT);
        } else {
            out.i8(NAME_GIVEN).string(name.value());
        }
    }

    private static Map<QuotaEntity, QuotaLimits> read(SealedFiles sealedFiles, Path file) throws IOException {
        Optional<ByteBuffer> payload = sealedFiles.read(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, FILE_NAME);
        if (payload.isEmpty()) {
            return Map.of();
        }
        MetadataPayload.Reader in = new MetadataPayload.Reader(file, payload.get());
        int count = in.count(1 + 4 + 4 + 9);
        Map<QuotaEntity, QuotaLimits> entries = new HashMap<>();
        for (int i = 0; i < count; i++) {
            byte type = in.i8();
            QuotaEntity entity = switch (type) {
                case TYPE_CLIENT -> {
                    String tenantId = in.string();
                    EntityName user = name(in);
                    EntityName clientId = name(in);
                    if (user == null && clientId == null) {
                        throw in.corrupt("a user / client-id entity of tenant " + tenantId + " has neither part");
                    }
                    yield new QuotaEntity.Client(tenantId, user, clientId);
                }
                case TYPE_IP -> {
                    EntityName address = name(in);
                    if (address == null) {
                        throw in.corrupt("an ip entity without an address");
                    }
                    yield new QuotaEntity.Ip(address);
                }
                case TYPE_TENANT -> new QuotaEntity.Tenant(in.string());
                default -> throw in.corrupt("unknown quota entity type " + type);
            };
            int quotas = in.count(9);
            if (quotas == 0) {
                throw in.corrupt("entity " + entity + " has no quota");
            }
            QuotaLimits limits = QuotaLimits.NONE;
            for (int q = 0; q < quotas; q++) {
                byte code = in.i8();
                QuotaKind kind = QuotaKind.fromCode(code)
                        .orElseThrow(() -> in.corrupt("unknown quota kind " + code + " on " + entity));
                double value = Double.longBitsToDouble(in.i64());
                if (limits.get(kind).isPresent()) {
                    throw in.corrupt(kind.configName() + " appears twice on " + entity);
                }
                try {
                    limits = limits.with(kind, value);
                } catch (IllegalArgumentException e) {
                    throw in.corrupt(e.getMessage() + " on " + entity);
                }
            }
            if (entries.put(entity, limits) != null) {
                throw in.corrupt("entity " + entity + " appears twice");
            }
        }
        in.end();
        return entries;
    }

    private static EntityName name(MetadataPayload.Reader in) throws MetadataFile.CorruptFileException {
        byte presence = in.i8();
        return switch (presence) {
            case NAME_ABSENT -> null;
            case NAME_DEFAULT -> EntityName.DEFAULT;
            case NAME_GIVEN -> EntityName.of(in.string());
            default -> throw in.corrupt("unknown entity name marker " + presence);
        };
    }
}
