package dev.bulwark.acl;

import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.MetadataPayload;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Every tenant's ACLs, durable in one file of the directory given to {@link #open}.
 *
 * <p>File {@value #FILE_NAME}, a {@link SealedFiles} file sealed under the broker's key ({@link KeyOwner#SYSTEM})
 * with magic {@code "BWAC"} and version 2, whose sealed payload is:
 * <pre>
 * i32     ACL count
 * then per ACL, in the order they were created:
 *   bytes   tenant id (UTF-8)
 *   i8      resource type (Kafka's ResourceType code)
 *   bytes   resource name
 *   i8      pattern type (Kafka's PatternType code: LITERAL or PREFIXED)
 *   bytes   principal, e.g. "User:alice" (a name inside the tenant)
 *   bytes   host, "*" or an address
 *   i8      operation (Kafka's AclOperation code)
 *   i8      permission (Kafka's AclPermissionType code: ALLOW or DENY)
 * </pre>
 * ({@code bytes} is an i32 length and that many bytes.)
 *
 * <p>Thread safety: reads are lock-free on an immutable {@link AclIndex}; changes are serialized, written to the file
 * and only then made visible, so a failed write changes nothing and a reader never sees half a change.
 */
public final class AclStore {

    static final String FILE_NAME = "acls";
    static final int FILE_MAGIC = 0x42574143; // "BWAC"
    static final byte FILE_VERSION = 2;

    private static final Logger LOG = LoggerFactory.getLogger(AclStore.class);

    private final SealedFiles sealedFiles;
    private final Path file;
    private final Object writeLock = new Object();
    private volatile AclIndex index;

    private AclStore(SealedFiles sealedFiles, Path file, AclIndex index) {
        this.sealedFiles = sealedFiles;
        this.file = file;
        this.index = index;
    }

    /**
     * Opens the store in {@code directory}, created when missing.
     *
     * @param sealedFiles seals the file under the broker's key
     * @throws MetadataFile.CorruptFileException when the file is damaged or holds something that is not a valid ACL
     * @throws SealedFiles.SealedFileException   when it does not open under the broker's key, or is unsealed
     */
    public static AclStore open(Path directory, SealedFiles sealedFiles) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(FILE_NAME);
        return new AclStore(sealedFiles, file, new AclIndex(read(sealedFiles, file)));
    }

    /** The current ACLs, for authorization: an immutable view that later changes do not touch. */
    public AclIndex index() {
        return index;
    }

    /**
     * Adds ACLs; one equal to an existing ACL is not added twice (as in Kafka, creating it again succeeds).
     * Every ACL must be {@link #checkStorable storable}.
     */
    public void add(Collection<TenantAcl> acls) throws IOException {
        acls.forEach(AclStore::checkStorable);
        synchronized (writeLock) {
            Set<TenantAcl> next = new LinkedHashSet<>(index.all());
            int before = next.size();
            next.addAll(acls);
            if (next.size() != before) {
                replace(next);
                LOG.info("Added {} ACL(s)", next.size() - before);
            }
        }
    }

    /** Removes and returns the ACLs {@code matches} selects, each once. */
    public List<TenantAcl> remove(Predicate<TenantAcl> matches) throws IOException {
        synchronized (writeLock) {
            List<TenantAcl> removed = new ArrayList<>();
            Set<TenantAcl> next = new LinkedHashSet<>();
            for (TenantAcl acl : index.all()) {
                (matches.test(acl) ? removed : next).add(acl);
            }
            if (!removed.isEmpty()) {
                replace(next);
                LOG.info("Removed {} ACL(s)", removed.size());
            }
            return removed;
        }
    }

    /** Removes every ACL of a tenant, when the tenant goes. */
    public List<TenantAcl> removeTenant(String tenantId) throws IOException {
        return remove(acl -> acl.tenantId().equals(tenantId));
    }

    /**
     * Refuses what can never match or be stored: filter-only values (ANY, MATCH, UNKNOWN), and names that are empty.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static void checkStorable(TenantAcl acl) {
        ResourcePattern pattern = acl.binding().pattern();
        AccessControlEntry entry = acl.binding().entry();
        if (pattern.resourceType() == ResourceType.ANY || pattern.resourceType() == ResourceType.UNKNOWN) {
            throw new IllegalArgumentException("an ACL needs a concrete resource type, not " + pattern.resourceType());
        }
        if (pattern.patternType() != PatternType.LITERAL && pattern.patternType() != PatternType.PREFIXED) {
            throw new IllegalArgumentException("an ACL's pattern type is LITERAL or PREFIXED, not "
                    + pattern.patternType());
        }
        if (pattern.name() == null || pattern.name().isEmpty()) {
            throw new IllegalArgumentException("an ACL needs a resource name");
        }
        if (entry.operation() == AclOperation.ANY || entry.operation() == AclOperation.UNKNOWN) {
            throw new IllegalArgumentException("an ACL needs a concrete operation, not " + entry.operation());
        }
        if (entry.permissionType() != AclPermissionType.ALLOW && entry.permissionType() != AclPermissionType.DENY) {
            throw new IllegalArgumentException("an ACL's permission is ALLOW or DENY, not " + entry.permissionType());
        }
        if (entry.principal() == null || entry.principal().isEmpty() || entry.host() == null
                || entry.host().isEmpty()) {
            throw new IllegalArgumentException("an ACL needs a principal and a host");
        }
    }

    private void replace(Collection<TenantAcl> acls) throws IOException {
        List<TenantAcl> ordered = List.copyOf(acls);
        write(sealedFiles, file, ordered);
        index = new AclIndex(ordered);
    }

    private static void write(SealedFiles sealedFiles, Path file, List<TenantAcl> acls) throws IOException {
        MetadataPayload.Writer out = new MetadataPayload.Writer().i32(acls.size());
        for (TenantAcl acl : acls) {
            ResourcePattern pattern = acl.binding().pattern();
            AccessControlEntry entry = acl.binding().entry();
            out.string(acl.tenantId())
                    .i8(pattern.resourceType().code()).string(pattern.name()).i8(pattern.patternType().code())
                    .string(entry.principal()).string(entry.host())
                    .i8(entry.operation().code()).i8(entry.permissionType().code());
        }
        sealedFiles.write(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, FILE_NAME, out.toByteArray());
    }

    private static List<TenantAcl> read(SealedFiles sealedFiles, Path file) throws IOException {
        Optional<ByteBuffer> payload = sealedFiles.read(file, FILE_MAGIC, FILE_VERSION, KeyOwner.SYSTEM, FILE_NAME);
        if (payload.isEmpty()) {
            return List.of();
        }
        MetadataPayload.Reader in = new MetadataPayload.Reader(file, payload.get());
        int count = in.count(4 + 1 + 4 + 1 + 4 + 4 + 1 + 1);
        List<TenantAcl> acls = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String tenantId = in.string();
            ResourceType type = ResourceType.fromCode(in.i8());
            String name = in.string();
            PatternType patternType = PatternType.fromCode(in.i8());
            String principal = in.string();
            String host = in.string();
            AclOperation operation = AclOperation.fromCode(in.i8());
            AclPermissionType permission = AclPermissionType.fromCode(in.i8());
            try {
                TenantAcl acl = new TenantAcl(tenantId, new AclBinding(new ResourcePattern(type, name, patternType),
                        new AccessControlEntry(principal, host, operation, permission)));
                checkStorable(acl);
                acls.add(acl);
            } catch (IllegalArgumentException e) {
                throw in.corrupt("ACL " + i + " of tenant " + tenantId + " is not valid: " + e.getMessage());
            }
        }
        in.end();
        return acls;
    }
}
