package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.quota.EntityName;
import dev.bulwark.acl.quota.QuotaEntity;
import dev.bulwark.acl.quota.QuotaKind;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.SealedFiles;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who may describe and alter which client quotas, and how entities of several tenants read to each caller. */
class ClientQuotaHandlersTest {

    @TempDir
    Path dir;

    private QuotaStore quotas;
    private String acme;
    private String globex;
    private DescribeClientQuotasHandler describe;
    private AlterClientQuotasHandler alter;

    private AuthenticatedPrincipal operator;
    private AuthenticatedPrincipal acmeAdmin;
    private AuthenticatedPrincipal globexAdmin;
    private AuthenticatedPrincipal acmeMember;

    @BeforeEach
    void setUp() throws Exception {
        SealedFiles sealed = TestLogs.sealedFiles(dir);
        TenantStore tenants = TenantStore.open(dir, sealed, Clock.systemUTC());
        acme = tenants.create("acme").id();
        globex = tenants.create("globex").id();
        quotas = QuotaStore.open(dir, sealed);
        ClientQuotaEntities entities = new ClientQuotaEntities(tenants);
        describe = new DescribeClientQuotasHandler(quotas, entities);
        alter = new AlterClientQuotasHandler(quotas, entities);
        operator = new AuthenticatedPrincipal("ops", Tenant.DEFAULT_ID, Role.OPERATOR, "SCRAM-SHA-512", -1);
        acmeAdmin = new AuthenticatedPrincipal("admin", acme, Role.TENANT_ADMIN, "SCRAM-SHA-512", -1);
        globexAdmin = new AuthenticatedPrincipal("admin", globex, Role.TENANT_ADMIN, "SCRAM-SHA-512", -1);
        acmeMember = new AuthenticatedPrincipal("alice", acme, Role.MEMBER, "SCRAM-SHA-512", -1);
    }

    @Test
    void namesMeanTheCallersTenantAndOperatorsNameOthersWithASuffix() {
        assertEquals(List.of(Errors.NONE, Errors.NONE, Errors.NONE), alter(acmeAdmin,
                set(entity("user", "alice"), "producer_byte_rate", 100),
                set(entity("user", null, "client-id", "app"), "consumer_byte_rate", 200),
                set(entity("client-id", null), "request_percentage", 12.5)));
        assertEquals(List.of(Errors.NONE, Errors.NONE), alter(operator,
                set(entity("user", "alice@globex"), "producer_byte_rate", 300),
                set(entity("client-id", "app@globex"), "producer_byte_rate", 400)));

        QuotaEntity acmeAlice = new QuotaEntity.Client(acme, EntityName.of("alice"), null);
        QuotaEntity globexApp = new QuotaEntity.Client(globex, null, EntityName.of("app"));
        assertEquals(100.0, quotas.snapshot().limits(acmeAlice).get(QuotaKind.PRODUCER_BYTE_RATE).getAsDouble());
        assertEquals(400.0, quotas.snapshot().limits(globexApp).get(QuotaKind.PRODUCER_BYTE_RATE).getAsDouble());

        assertEquals(Set.of("[user=alice] producer_byte_rate=100.0",
                        "[user=<default>, client-id=app] consumer_byte_rate=200.0",
                        "[client-id=<default>] request_percentage=12.5"),
                describeAll(acmeAdmin));
        assertEquals(Set.of("[user=alice] producer_byte_rate=300.0", "[client-id=app] producer_byte_rate=400.0"),
                describeAll(globexAdmin));
        // The operator sees every tenant's named entities, suffixed; acme's default-user entity names no one it
        // could suffix, so that stays with acme's admins.
        assertEquals(Set.of("[user=alice@acme] producer_byte_rate=100.0",
                        "[user=<default>, client-id=app@acme] consumer_byte_rate=200.0",
                        "[user=alice@globex] producer_byte_rate=300.0",
                        "[client-id=app@globex] producer_byte_rate=400.0"),
                describeAll(operator));
    }

    @Test
    void anotherTenantIsNeverReachedByATenantAdmin() {
        assertEquals(List.of(Errors.CLUSTER_AUTHORIZATION_FAILED, Errors.CLUSTER_AUTHORIZATION_FAILED),
                alter(globexAdmin, set(entity("user", "alice@acme"), "producer_byte_rate", 1),
                        set(entity("ip", "10.0.0.7"), "connection_creation_rate", 1)));
        assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED, describeError(globexAdmin, exact("user", "alice@acme")));
        assertEquals(Errors.NONE, describeError(acmeAdmin, exact("user", "alice@acme")));
        assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED, describeError(acmeAdmin, exact("ip", "10.0.0.7")));
        assertTrue(quotas.snapshot().isEmpty());
    }

    @Test
    void membersManageNoQuotas() {
        assertEquals(List.of(Errors.CLUSTER_AUTHORIZATION_FAILED),
                alter(acmeMember, set(entity("user", "alice"), "producer_byte_rate", 1)));
        assertEquals(Errors.CLUSTER_AUTHORIZATION_FAILED, describeError(acmeMember));
    }

    @Test
    void invalidAlterationsAreRefusedAsKafkaRefusesThem() {
        assertEquals(List.of(Errors.INVALID_REQUEST, Errors.INVALID_REQUEST, Errors.INVALID_REQUEST,
                        Errors.INVALID_REQUEST, Errors.INVALID_REQUEST, Errors.INVALID_REQUEST, Errors.INVALID_REQUEST,
                        Errors.INVALID_REQUEST),
                alter(operator,
                        set(entity("user", "alice"), "no_such_quota", 1),
                        set(entity("user", "alice"), "connection_creation_rate", 1),
                        set(entity("ip", "10.0.0.7"), "producer_byte_rate", 1),
                        set(entity("user", "alice"), "producer_byte_rate", 1.5),
                        set(entity("user", "alice"), "producer_byte_rate", -1),
                        set(entity("ip", "not-an-address"), "connection_creation_rate", 1),
                        set(entity("ip", "10.0.0.7", "user", "alice"), "connection_creation_rate", 1),
                        set(entity("group", "x"), "producer_byte_rate", 1)));
        assertTrue(quotas.snapshot().isEmpty());
    }

    @Test
    void validateOnlyChangesNothingAndRemovalRemoves() {
        AlterClientQuotasRequestData validateOnly = new AlterClientQuotasRequestData().setValidateOnly(true)
                .setEntries(List.of(set(entity("user", "alice"), "producer_byte_rate", 10)));
        assertEquals(Errors.NONE.code(), alterResponse(acmeAdmin, validateOnly).entries().get(0).errorCode());
        assertTrue(quotas.snapshot().isEmpty());

        alter(acmeAdmin, set(entity("user", "alice"), "producer_byte_rate", 10));
        AlterClientQuotasRequestData.EntryData remove = new AlterClientQuotasRequestData.EntryData()
                .setEntity(entity("user", "alice"))
                .setOps(List.of(new AlterClientQuotasRequestData.OpData().setKey("producer_byte_rate").setRemove(true)));
        assertEquals(List.of(Errors.NONE), alter(acmeAdmin, remove));
        assertTrue(quotas.snapshot().isEmpty());
    }

    @Test
    void filtersMatchByExactNameDefaultOrAnyAndStrictly() {
        alter(acmeAdmin,
                set(entity("user", "alice"), "producer_byte_rate", 1),
                set(entity("user", "alice", "client-id", "app"), "producer_byte_rate", 2),
                set(entity("user", null), "producer_byte_rate", 3),
                set(entity("client-id", "app"), "producer_byte_rate", 4));
        assertEquals(Set.of("[user=alice] producer_byte_rate=1.0"), describe(acmeAdmin, true, exact("user", "alice")));
        assertEquals(2, describe(acmeAdmin, false, exact("user", "alice")).size());
        assertEquals(Set.of("[user=<default>] producer_byte_rate=3.0"),
                describe(acmeAdmin, true, component("user", (byte) 1, null)));
        assertEquals(2, describe(acmeAdmin, true, component("user", (byte) 2, null)).size());
        assertEquals(2, describe(acmeAdmin, false, component("client-id", (byte) 2, null)).size());
        assertEquals(Errors.INVALID_REQUEST, describeError(acmeAdmin, exact("user", "alice"), exact("user", "bob")));
        assertEquals(Errors.UNSUPPORTED_VERSION, describeError(acmeAdmin, exact("group", "x")));
    }

    // ---------------------------------------------------------------- helpers

    private static List<AlterClientQuotasRequestData.EntityData> entity(String... typeAndName) {
        List<AlterClientQuotasRequestData.EntityData> parts = new ArrayList<>();
        for (int i = 0; i < typeAndName.length; i += 2) {
            parts.add(new AlterClientQuotasRequestData.EntityData().setEntityType(typeAndName[i])
                    .setEntityName(typeAndName[i + 1]));
        }
        return parts;
    }

    private static AlterClientQuotasRequestData.EntryData set(List<AlterClientQuotasRequestData.EntityData> entity,
                                                             String key, double value) {
        return new AlterClientQuotasRequestData.EntryData().setEntity(entity)
                .setOps(List.of(new AlterClientQuotasRequestData.OpData().setKey(key).setValue(value)));
    }

    private List<Errors> alter(AuthenticatedPrincipal caller, AlterClientQuotasRequestData.EntryData... entries) {
        AlterClientQuotasResponseData response = alterResponse(caller,
                new AlterClientQuotasRequestData().setEntries(Arrays.asList(entries)));
        return response.entries().stream().map(e -> Errors.forCode(e.errorCode())).toList();
    }

    private AlterClientQuotasResponseData alterResponse(AuthenticatedPrincipal caller,
                                                        AlterClientQuotasRequestData data) {
        return (AlterClientQuotasResponseData) body(alter.handle(request(caller, ApiKeys.ALTER_CLIENT_QUOTAS, data))
                .toCompletableFuture().join());
    }

    private static DescribeClientQuotasRequestData.ComponentData exact(String type, String name) {
        return component(type, (byte) 0, name);
    }

    private static DescribeClientQuotasRequestData.ComponentData component(String type, byte match, String name) {
        return new DescribeClientQuotasRequestData.ComponentData().setEntityType(type).setMatchType(match)
                .setMatch(name);
    }

    private DescribeClientQuotasResponseData describeResponse(AuthenticatedPrincipal caller, boolean strict,
                                                              DescribeClientQuotasRequestData.ComponentData... filter) {
        DescribeClientQuotasRequestData data = new DescribeClientQuotasRequestData().setStrict(strict)
                .setComponents(Arrays.asList(filter));
        return (DescribeClientQuotasResponseData) body(describe.handle(request(caller,
                ApiKeys.DESCRIBE_CLIENT_QUOTAS, data)).toCompletableFuture().join());
    }

    private Errors describeError(AuthenticatedPrincipal caller, DescribeClientQuotasRequestData.ComponentData... filter) {
        return Errors.forCode(describeResponse(caller, false, filter).errorCode());
    }

    private Set<String> describeAll(AuthenticatedPrincipal caller) {
        return describe(caller, false);
    }

    /** Each entry as "[user=..., client-id=...] key=value ...". */
    private Set<String> describe(AuthenticatedPrincipal caller, boolean strict,
                                 DescribeClientQuotasRequestData.ComponentData... filter) {
        DescribeClientQuotasResponseData response = describeResponse(caller, strict, filter);
        assertEquals(Errors.NONE.code(), response.errorCode(), response.errorMessage());
        Set<String> entries = new HashSet<>();
        for (DescribeClientQuotasResponseData.EntryData entry : response.entries()) {
            String entity = entry.entity().stream()
                    .sorted((a, b) -> b.entityType().compareTo(a.entityType()))
                    .map(e -> e.entityType() + "=" + (e.entityName() == null ? "<default>" : e.entityName()))
                    .toList().toString();
            String values = String.join(" ", entry.values().stream().map(v -> v.key() + "=" + v.value()).sorted()
                    .toList());
            assertTrue(entries.add(entity + " " + values), "one entry per entity");
        }
        return entries;
    }

    private static ApiMessage body(Reply reply) {
        return ((Reply.Respond) reply).body();
    }

    private static Request request(AuthenticatedPrincipal caller, ApiKeys key, ApiMessage data) {
        short version = key.latestVersion();
        RequestHeader header = new RequestHeader(key, version, "test", 1);
        AbstractRequest body = AbstractRequest.parseRequest(key, version,
                new ByteBufferAccessor(MessageUtil.toByteBufferAccessor(data, version).buffer())).request;
        RequestContext context = new RequestContext(header, "conn-1", InetAddress.getLoopbackAddress(),
                new KafkaPrincipal(KafkaPrincipal.USER_TYPE, caller.user()), ListenerName.normalised("PLAINTEXT"),
                SecurityProtocol.PLAINTEXT, ClientInformation.EMPTY, false);
        return new Request(context, body, new Request.Listener("PLAINTEXT", "127.0.0.1", 9092), caller);
    }
}
