package dev.bulwark.gateway.network;

import dev.bulwark.acl.AclStore;
import dev.bulwark.audit.journal.AuditJournal;
import dev.bulwark.gateway.audit.AuditStage;
import dev.bulwark.gateway.audit.AuditTrail;
import dev.bulwark.gateway.audit.AuthenticationAudit;
import dev.bulwark.acl.quota.QuotaManager;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.acl.quota.QuotaWindow;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.AuthenticationFailures;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.gateway.Security;
import dev.bulwark.gateway.BulwarkServer;
import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.cluster.ProducerIds;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.group.GroupSettings;
import dev.bulwark.gateway.group.OffsetStore;
import dev.bulwark.gateway.kafka.FetchPurgatory;
import dev.bulwark.gateway.kafka.FetchSessions;
import dev.bulwark.gateway.protocol.ApiRegistry;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.protocol.RequestPipeline;
import dev.bulwark.gateway.quota.QuotaStage;
import dev.bulwark.gateway.testing.ManualScheduler;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionLog;
import dev.bulwark.gateway.txn.TransactionPartitions;
import dev.bulwark.gateway.txn.TransactionSettings;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.LogManager;
import dev.bulwark.gateway.telemetry.RequestTelemetry;
import dev.bulwark.gateway.telemetry.TrafficMetrics;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.TopicMetadata;
import dev.bulwark.storage.crypto.CryptoProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The broker's real parts without a listener: a log store in a temporary directory, topics, producer ids, fetch
 * sessions, a group coordinator on a {@link ManualScheduler}, and the API table {@link BulwarkServer#apis} builds for
 * the running broker. Holds a topic {@code orders} with records in both partitions.
 */
final class BrokerParts implements AutoCloseable {

    static final int NODE_ID = 1;
    static final Request.Listener LISTENER = new Request.Listener("PLAINTEXT", "127.0.0.1", 9092);
    /** Who sends the requests: an operator, who sees the default tenant as anonymous clients do and may manage users. */
    static final AuthenticatedPrincipal OPERATOR = new AuthenticatedPrincipal("admin", Tenant.DEFAULT_ID,
            Role.OPERATOR, "SCRAM-SHA-512", -1);

    final ManualScheduler timer = new ManualScheduler();
    final MeterRegistry metrics = new SimpleMeterRegistry();
    /** Opens large fetches' slices beside the request thread, as the server's pool does. */
    final ExecutorService sliceOpeners = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "test-fetch-open");
        t.setDaemon(true);
        return t;
    });
    final BrokerConfigs broker;
    final ClusterIdentity cluster;
    final FetchPurgatory purgatory;
    final LogManager logs;
    final TopicCatalog catalog;
    final Topics topics;
    final GroupCoordinator groups;
    final OffsetStore offsets;
    final TransactionCoordinator transactions;
    final TransactionLog transactionLog;
    final Security security;
    final QuotaManager quotas;
    final AclStore acls;
    final AtRestKeys keys;
    final AuditTrail audit;
    final AuditStage auditStage;
    final ApiRegistry apis;
    final TopicMetadata orders;
    private int correlationId;

    BrokerParts(Path dir) throws IOException {
        broker = BrokerConfigs.load(Map.of(), dir.resolve("broker.configs"));
        cluster = ClusterIdentity.loadOrCreate(dir.resolve("cluster.meta"), NODE_ID);
        purgatory = new FetchPurgatory(Runnable::run);
        keys = TestLogs.keys(dir);
        SealedFiles sealed = new SealedFiles(keys);
        logs = LogManager.open(dir.resolve("log"), TestLogs.settings(), keys, broker.values(), timer.clock(),
                purgatory);
        Path securityDir = dir.resolve("security");
        TenantStore tenants = TenantStore.open(securityDir, sealed, timer.clock());
        audit = AuditTrail.open(dir, keys, sealed, AuditJournal.Settings.defaults(), timer.clock());
        security = new Security(tenants, UserStore.open(securityDir, sealed, UserStore.MIN_ITERATIONS,
                CryptoProvider.jdk(), timer.clock()),
                Optional.empty(), new AuthenticationFailures(AuthenticationFailures.Config.defaults(), timer.clock()),
                null, null, new TenantConnections(tenants), new AuthenticationAudit(audit, tenants, timer.clock()));
        catalog = new TopicCatalog(logs, broker, tenants, timer.clock());
        topics = catalog.forTenant(Tenant.DEFAULT_ID);
        offsets = OffsetStore.open(logs.internalLog("consumer-offsets", Map.of()),
                dir.resolve("log").resolve("consumer-offsets.snapshot"), sealed, timer.clock());
        groups = new GroupCoordinator(new GroupSettings(Duration.ofSeconds(6), Duration.ofMinutes(30), Duration.ZERO,
                Integer.MAX_VALUE, Duration.ofDays(7)), offsets, timer, timer.clock());
        security.users().bootstrapOperator(OPERATOR.user() + ":operator-secret");
        quotas = new QuotaManager(QuotaStore.open(securityDir, sealed), QuotaWindow.KAFKA_DEFAULT, timer.clock());
        acls = AclStore.open(securityDir, sealed);
        auditStage = new AuditStage(audit, tenants, catalog, new TrafficMetrics(metrics, tenants), timer.clock());
        ProducerIds producerIds = ProducerIds.open(dir.resolve("producer-ids"));
        transactionLog = TransactionLog.open(logs.internalLog("transaction-state", Map.of()),
                dir.resolve("log").resolve("transaction-state.snapshot"), sealed, timer.clock());
        transactions = new TransactionCoordinator(transactionLog, producerIds, TransactionPartitions.of(catalog),
                (tenantId, groupId, producerId, commit) ->
                        groups.completeTransaction(new GroupKey(tenantId, groupId), producerId, commit),
                new TransactionSettings(Duration.ofMinutes(15), Duration.ofSeconds(10), Duration.ofMillis(500),
                        Duration.ofDays(7), Duration.ofHours(1)), timer, timer.clock());
        apis = BulwarkServer.apis(cluster, broker, catalog, producerIds, new FetchSessions(1000, timer.clock()),
                purgatory, groups, transactions, security, acls, quotas.store(), sliceOpeners, timer.clock());
        orders = createTopic("orders", 2);
        for (int p = 0; p < 2; p++) {
            append(orders, p, "first-" + p);
            append(orders, p, "second-" + p);
        }
    }

    /** The request pipeline of the running broker over these parts. */
    RequestPipeline pipeline() {
        return pipeline(apis);
    }

    /** The request pipeline of the running broker over these parts, with other handlers. */
    RequestPipeline pipeline(ApiRegistry handlers) {
        return new RequestPipeline(handlers, new QuotaStage(quotas), security.tenants(), auditStage,
                new RequestTelemetry(OpenTelemetry.noop().getTracer("test"), metrics, security.tenants(), catalog));
    }

    TopicMetadata createTopic(String name, int partitions) {
        return topics.creating(allowance -> topics.create(topics.plan(name, partitions, (short) -1, Map.of()),
                allowance));
    }

    PartitionLog log(TopicMetadata topic, int partition) {
        return topics.partition(topic, partition).orElseThrow();
    }

    MemoryRecords records(String value) {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(timer.nowMs(),
                "key".getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)));
    }

    void append(TopicMetadata topic, int partition, String value) {
        log(topic, partition).append(records(value));
    }

    /**
     * The request a connection would hand the pipeline for {@code data} at {@code version}: written with
     * kafka-clients' serialisation, parsed back as the server parses it, with a request context like a connection's.
     */
    Request request(ApiKeys key, short version, ApiMessage data) {
        return request(key, version, data, OPERATOR);
    }

    /** As {@link #request(ApiKeys, short, ApiMessage)}, sent by {@code sender}. */
    Request request(ApiKeys key, short version, ApiMessage data, AuthenticatedPrincipal sender) {
        RequestHeader header = new RequestHeader(key, version, "round-trip", ++correlationId);
        AbstractRequest body = AbstractRequest.parseRequest(key, version,
                new ByteBufferAccessor(MessageUtil.toByteBufferAccessor(data, version).buffer())).request;
        RequestContext context = new RequestContext(header, "conn-1", InetAddress.getLoopbackAddress(),
                new KafkaPrincipal(KafkaPrincipal.USER_TYPE, sender.user()), ListenerName.normalised(LISTENER.name()),
                SecurityProtocol.PLAINTEXT, ClientInformation.EMPTY, false);
        return new Request(context, body, LISTENER, sender);
    }

    @Override
    public void close() throws IOException {
        sliceOpeners.shutdownNow();
        groups.shutdown();
        purgatory.close();
        logs.close();
        audit.close();
    }
}
