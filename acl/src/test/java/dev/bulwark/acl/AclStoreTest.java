package dev.bulwark.acl;

import dev.bulwark.storage.MetadataFile;
import dev.bulwark.storage.SealedFiles;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AclStoreTest {

    @TempDir
    Path dir;
    private SealedFiles sealed;

    @BeforeEach
    void openKeys() throws IOException {
        sealed = TestSealedFiles.in(dir);
    }

    private static TenantAcl acl(String tenant, String topic, PatternType pattern, AclPermissionType permission) {
        return new TenantAcl(tenant, new AclBinding(new ResourcePattern(ResourceType.TOPIC, topic, pattern),
                new AccessControlEntry("User:alice", "*", AclOperation.WRITE, permission)));
    }

    @Test
    void aclsSurviveReopeningAndAreNotStoredTwice() throws IOException {
        AclStore store = AclStore.open(dir, sealed);
        TenantAcl literal = acl("acme", "payments", PatternType.LITERAL, AclPermissionType.ALLOW);
        TenantAcl prefixed = acl("globex", "pay", PatternType.PREFIXED, AclPermissionType.DENY);
        store.add(List.of(literal, prefixed));
        store.add(List.of(literal));
        assertEquals(List.of(literal, prefixed), AclStore.open(dir, sealed).index().all());
    }

    @Test
    void removalTakesWhatTheFilterSelectsAndIsDurable() throws IOException {
        AclStore store = AclStore.open(dir, sealed);
        TenantAcl a = acl("acme", "a", PatternType.LITERAL, AclPermissionType.ALLOW);
        TenantAcl b = acl("acme", "b", PatternType.LITERAL, AclPermissionType.ALLOW);
        TenantAcl c = acl("globex", "a", PatternType.LITERAL, AclPermissionType.ALLOW);
        store.add(List.of(a, b, c));
        assertEquals(List.of(a, c), store.remove(acl -> acl.binding().pattern().name().equals("a")));
        assertEquals(List.of(b), store.removeTenant("acme"));
        assertEquals(List.of(), store.remove(acl -> true).stream().filter(x -> false).toList());
        assertTrue(AclStore.open(dir, sealed).index().all().isEmpty());
    }

    @Test
    void filterOnlyValuesAreNotStorable() throws IOException {
        AclStore store = AclStore.open(dir, sealed);
        TenantAcl anyOperation = new TenantAcl("acme", new AclBinding(
                new ResourcePattern(ResourceType.TOPIC, "t", PatternType.LITERAL),
                new AccessControlEntry("User:alice", "*", AclOperation.UNKNOWN, AclPermissionType.ALLOW)));
        assertThrows(IllegalArgumentException.class, () -> store.add(List.of(anyOperation)));
        assertTrue(store.index().all().isEmpty());
    }

    @Test
    void aDamagedFileIsRefusedNotGuessed() throws IOException {
        AclStore.open(dir, sealed).add(List.of(acl("acme", "payments", PatternType.LITERAL, AclPermissionType.ALLOW)));
        Path file = dir.resolve(AclStore.FILE_NAME);
        byte[] bytes = Files.readAllBytes(file);
        bytes[12] ^= 0x5A;
        Files.write(file, bytes);
        assertThrows(MetadataFile.CorruptFileException.class, () -> AclStore.open(dir, sealed));
    }
}
