package dev.bulwark.gateway;

import dev.bulwark.acl.AclStore;
import dev.bulwark.acl.Authorizer;
import dev.bulwark.auth.Tenant;
import dev.bulwark.acl.quota.QuotaManager;
import dev.bulwark.acl.quota.QuotaStore;
import dev.bulwark.acl.quota.QuotaWindow;
import dev.bulwark.audit.Outcome;
import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.cluster.ProducerIds;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.gateway.config.BulwarkConfig;
import dev.bulwark.gateway.group.ConsumerLag;
import dev.bulwark.gateway.group.GroupCoordinator;
import dev.bulwark.gateway.group.GroupKey;
import dev.bulwark.gateway.group.GroupSettings;
import dev.bulwark.gateway.group.OffsetStore;
import dev.bulwark.gateway.kafka.AccessControl;
import dev.bulwark.audit.journal.AuditJournal;
import dev.bulwark.gateway.audit.AuditStage;
import dev.bulwark.gateway.audit.AuditStream;
import dev.bulwark.gateway.audit.AuditTrail;
import dev.bulwark.gateway.audit.PartitionAudit;
import dev.bulwark.gateway.health.BrokerHealth;
import dev.bulwark.gateway.health.StorageProbe;
import dev.bulwark.gateway.telemetry.BrokerGauges;
import dev.bulwark.gateway.telemetry.FsyncMetrics;
import dev.bulwark.gateway.telemetry.RequestTelemetry;
import dev.bulwark.gateway.telemetry.TrafficMetrics;
import dev.bulwark.gateway.keys.AtRestKeyManagement;
import dev.bulwark.gateway.keys.ErasureRecords;
import dev.bulwark.gateway.kafka.AddOffsetsToTxnHandler;
import dev.bulwark.gateway.kafka.AddPartitionsToTxnHandler;
import dev.bulwark.gateway.kafka.AlterClientQuotasHandler;
import dev.bulwark.gateway.kafka.AlterConfigsHandler;
import dev.bulwark.gateway.kafka.CreateAclsHandler;
import dev.bulwark.gateway.kafka.DeleteAclsHandler;
import dev.bulwark.gateway.kafka.DescribeAclsHandler;
import dev.bulwark.gateway.kafka.ApiVersionsHandler;
import dev.bulwark.gateway.kafka.ClientQuotaEntities;
import dev.bulwark.gateway.kafka.CreatePartitionsHandler;
import dev.bulwark.gateway.kafka.CreateTopicsHandler;
import dev.bulwark.gateway.kafka.DeleteRecordsHandler;
import dev.bulwark.gateway.kafka.DeleteTopicsHandler;
import dev.bulwark.gateway.kafka.DescribeClientQuotasHandler;
import dev.bulwark.gateway.kafka.DescribeClusterHandler;
import dev.bulwark.gateway.kafka.DescribeConfigsHandler;
import dev.bulwark.gateway.kafka.DeleteGroupsHandler;
import dev.bulwark.gateway.kafka.DescribeGroupsHandler;
import dev.bulwark.gateway.kafka.DescribeProducersHandler;
import dev.bulwark.gateway.kafka.DescribeTopicPartitionsHandler;
import dev.bulwark.gateway.kafka.DescribeTransactionsHandler;
import dev.bulwark.gateway.kafka.FetchHandler;
import dev.bulwark.gateway.kafka.FetchPurgatory;
import dev.bulwark.gateway.kafka.FetchSessions;
import dev.bulwark.gateway.kafka.FindCoordinatorHandler;
import dev.bulwark.gateway.kafka.HeartbeatHandler;
import dev.bulwark.gateway.kafka.JoinGroupHandler;
import dev.bulwark.gateway.kafka.LeaveGroupHandler;
import dev.bulwark.gateway.kafka.ListGroupsHandler;
import dev.bulwark.gateway.kafka.ListTransactionsHandler;
import dev.bulwark.gateway.kafka.OffsetCommitHandler;
import dev.bulwark.gateway.kafka.OffsetDeleteHandler;
import dev.bulwark.gateway.kafka.OffsetFetchHandler;
import dev.bulwark.gateway.kafka.SyncGroupHandler;
import dev.bulwark.gateway.kafka.TxnOffsetCommitHandler;
import dev.bulwark.gateway.kafka.InitProducerIdHandler;
import dev.bulwark.gateway.kafka.ListOffsetsHandler;
import dev.bulwark.gateway.kafka.MetadataHandler;
import dev.bulwark.gateway.kafka.OffsetForLeaderEpochHandler;
import dev.bulwark.gateway.kafka.ProduceHandler;
import dev.bulwark.gateway.kafka.AlterUserScramCredentialsHandler;
import dev.bulwark.gateway.kafka.DescribeUserScramCredentialsHandler;
import dev.bulwark.gateway.kafka.EndTxnHandler;
import dev.bulwark.gateway.kafka.SaslOutOfSequenceHandler;
import dev.bulwark.gateway.kafka.ScramUserNames;
import dev.bulwark.gateway.network.KafkaListener;
import dev.bulwark.gateway.network.ListenerSpec;
import dev.bulwark.gateway.protocol.ApiRegistry;
import dev.bulwark.gateway.protocol.RequestPipeline;
import dev.bulwark.gateway.quota.QuotaStage;
import dev.bulwark.gateway.txn.TransactionCoordinator;
import dev.bulwark.gateway.txn.TransactionLog;
import dev.bulwark.gateway.txn.TransactionPartitions;
import dev.bulwark.gateway.txn.TransactionSettings;
import dev.bulwark.storage.AtRestKeys;
import dev.bulwark.storage.BatchSealingMismatchException;
import dev.bulwark.storage.LogConfig;
import dev.bulwark.storage.LogManager;
import dev.bulwark.storage.PartitionLog;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.StorageSettings;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.CryptoProvider;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeySource;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.Tracer;
import io.vertx.core.Vertx;
import org.apache.kafka.common.protocol.ApiKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker, composed in one place: configuration, the log store, the Kafka APIs and the request pipeline, the
 * listeners. Reading {@link #start} top to bottom shows every part and how it is wired.
 */
public final class BulwarkServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BulwarkServer.class);
    private static final long SNAPSHOT_EVERY = 10_000;
    /** How long the transaction coordinator waits before writing a marker again to a partition that refused it. */
    private static final Duration MARKER_RETRY_BACKOFF = Duration.ofMillis(500);

    private final LogManager logs;
    private final ExecutorService requestPool;
    private final ExecutorService sliceOpeners;
    private final FetchPurgatory purgatory;
    private final ScheduledExecutorService timer;
    private final GroupCoordinator groups;
    private final ConsumerLag consumerLag;
    private final TenantUsage tenantUsage;
    private final Security security;
    private final QuotaStore quotas;
    private final AtRestKeyManagement keys;
    private final TenantErasure erasure;
    private final AuditTrail audit;
    private final AuditStage auditStage;
    private final AuditStream auditStream;
    private final BrokerHealth health;
    private final List<KafkaListener> listeners;

    private BulwarkServer(LogManager logs, ExecutorService requestPool, ExecutorService sliceOpeners,
                          FetchPurgatory purgatory,
                          ScheduledExecutorService timer, GroupCoordinator groups, ConsumerLag consumerLag,
                          TenantUsage tenantUsage, Security security, QuotaStore quotas, AtRestKeyManagement keys,
                          TenantErasure erasure, AuditTrail audit, AuditStage auditStage, AuditStream auditStream,
                          BrokerHealth health, List<KafkaListener> listeners) {
        this.logs = logs;
        this.requestPool = requestPool;
        this.sliceOpeners = sliceOpeners;
        this.purgatory = purgatory;
        this.timer = timer;
        this.groups = groups;
        this.consumerLag = consumerLag;
        this.tenantUsage = tenantUsage;
        this.security = security;
        this.quotas = quotas;
        this.keys = keys;
        this.erasure = erasure;
        this.audit = audit;
        this.auditStage = auditStage;
        this.auditStream = auditStream;
        this.health = health;
        this.listeners = listeners;
    }

    /**
     * The keys everything in the data directory is sealed with: the keyring in {@code <data-dir>/keys} under the
     * configured master key ({@code bulwark.master-key-file} or {@code bulwark.master-key}), else under the dev key
     * kept beside it, which protects nothing against a copy of the disk; the warning says so. A keyring written
     * under another master key fails here, before anything else of the data directory is opened or written.
     */
    private static AtRestKeys atRestKeys(BulwarkConfig config, Path dataDir, CryptoProvider crypto) throws IOException {
        AesGcm gcm = crypto.aesGcm();
        try {
            MasterKeySource.MasterKey master = MasterKeySource.load(config.masterKeyFile().map(Path::of),
                    config.masterKey(), "bulwark.master-key (BULWARK_MASTER_KEY)", dataDir, gcm);
            if (master.devKey()) {
                LOG.warn("ENCRYPTION AT REST USES THE DEV MASTER KEY from {}: it lies beside the data and does not "
                        + "protect it against a copy of the disk. Set bulwark.master-key-file (a mounted secret) or "
                        + "BULWARK_MASTER_KEY; the README says how", master.origin());
            } else {
                LOG.info("Encryption at rest uses the master key from {}", master.origin());
            }
            return new AtRestKeys(Keyring.open(dataDir, master.kms(), gcm), gcm);
        } catch (GeneralSecurityException e) {
            throw new IOException("the keys of encryption at rest do not open: " + e.getMessage(), e);
        }
    }

    /**
     * The provider of Bulwark's own cryptography: Bouncy Castle's FIPS module under {@code bulwark.crypto.fips}, which
     * must come before anything loads a Bouncy Castle class (approved-only mode is fixed when the module loads).
     */
    private static CryptoProvider cryptoProvider(BulwarkConfig config) {
        CryptoProvider crypto;
        try {
            crypto = config.crypto().fips() ? CryptoProvider.fips() : CryptoProvider.jdk();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("bulwark.crypto.fips=true (BULWARK_CRYPTO_FIPS): " + e.getMessage(), e);
        }
        LOG.info("Cryptography: {}{}", crypto, crypto.isFips() ? "; TLS is the JDK's JSSE, outside FIPS mode" : "");
        return crypto;
    }

    /**
     * @param metrics where the broker's meters go (Quarkus's registry, scraped at {@code /q/metrics})
     * @param tracer  makes a span per Kafka request; a no-op one unless tracing is on
     */
    public static BulwarkServer start(BulwarkConfig config, Vertx vertx, MeterRegistry metrics, Tracer tracer)
            throws IOException {
        Clock clock = Clock.systemUTC();
        Path dataDir = Path.of(config.dataDir()).toAbsolutePath();
        Files.createDirectories(dataDir);
        List<ListenerSpec> specs = ListenerSpec.parseList(config.listeners());

        // First of all, so that a wrong master key stops the start before any file of the data directory is touched.
        CryptoProvider crypto = cryptoProvider(config);
        AtRestKeys atRestKeys = atRestKeys(config, dataDir, crypto);
        warmUpCrypto(atRestKeys);
        SealedFiles sealedFiles = new SealedFiles(atRestKeys);
        AuditTrail audit = AuditTrail.open(dataDir, atRestKeys, sealedFiles, new AuditJournal.Settings(
                config.audit().fileBytes(), config.audit().checkpointEvery(), config.audit().checkpointInterval(),
                config.audit().retention(), config.audit().indexCacheBytes()), clock);
        BrokerConfigs broker = BrokerConfigs.load(config.kafka(), dataDir.resolve("broker.configs"));
        Security security = Security.open(config, broker, specs, dataDir, sealedFiles, crypto, audit, metrics,
                clock);
        ClusterIdentity cluster = ClusterIdentity.loadOrCreate(dataDir.resolve("cluster.meta"), config.nodeId());
        ExecutorService requestPool = threads(broker.intValue(BrokerConfigs.NUM_IO_THREADS), "bulwark-io-");
        ExecutorService sliceOpeners = threads(Math.max(1, Runtime.getRuntime().availableProcessors()),
                "bulwark-fetch-open-");
        FetchPurgatory purgatory = new FetchPurgatory(requestPool);
        if (!config.storage().sealBatches()) {
            LOG.warn("bulwark.storage.seal-batches=false: record batches are stored UNSEALED, readable by anyone who "
                    + "copies the disk; this is for measuring what sealing costs, never for data that matters. The "
                    + "data directory keeps this choice for good: it will not start sealing");
        }
        LogManager logs = openLogStore(config, dataDir.resolve("log"), new StorageSettings(
                        config.storage().flushPolicy(),
                        config.storage().flushInterval(),
                        config.storage().flushThreads(),
                        Math.max(1, Runtime.getRuntime().availableProcessors()),
                        Duration.ofMillis(broker.longValue(BrokerConfigs.RETENTION_CHECK_INTERVAL_MS)),
                        Duration.ofMillis(broker.longValue(BrokerConfigs.CHECKPOINT_INTERVAL_MS)),
                        Duration.ofMillis(broker.longValue(BrokerConfigs.PRODUCER_ID_EXPIRATION_MS)),
                        Duration.ofMillis(broker.longValue(BrokerConfigs.CLEANER_BACKOFF_MS)),
                        config.storage().sealBatches()),
                atRestKeys, broker.values(), clock, PartitionLog.Listener.all(List.of(
                        purgatory, new PartitionAudit(audit), new FsyncMetrics(metrics))));
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bulwark-timer");
            t.setDaemon(true);
            return t;
        });
        try {
            TopicCatalog topics = new TopicCatalog(logs, broker, security.tenants(), clock);
            ProducerIds producerIds = ProducerIds.open(dataDir.resolve("producer-ids"));
            FetchSessions sessions = new FetchSessions(broker.intValue(BrokerConfigs.FETCH_SESSION_SLOTS), clock);
            OffsetStore offsets = OffsetStore.open(logs.internalLog("consumer-offsets", Map.of(
                    LogConfig.SEGMENT_BYTES, Integer.toString(64 << 20), LogConfig.RETENTION_MS, "-1")),
                    dataDir.resolve("log").resolve("consumer-offsets.snapshot"), sealedFiles, clock);
            GroupCoordinator groups = new GroupCoordinator(groupSettings(broker), offsets, timer, clock);
            long retentionCheck = broker.longValue(BrokerConfigs.OFFSETS_RETENTION_CHECK_INTERVAL_MS);
            timer.scheduleWithFixedDelay(groups::expireOffsets, retentionCheck, retentionCheck,
                    TimeUnit.MILLISECONDS);
            timer.scheduleWithFixedDelay(() -> snapshot("committed-offsets", offsets::maybeSnapshot), 1, 1,
                    TimeUnit.MINUTES);

            TransactionLog transactionLog = TransactionLog.open(logs.internalLog("transaction-state", Map.of(
                    LogConfig.SEGMENT_BYTES, Integer.toString(64 << 20), LogConfig.RETENTION_MS, "-1")),
                    dataDir.resolve("log").resolve("transaction-state.snapshot"), sealedFiles, clock);
            TransactionCoordinator transactions = new TransactionCoordinator(transactionLog, producerIds,
                    TransactionPartitions.of(topics), (tenantId, groupId, producerId, commit) ->
                    groups.completeTransaction(new GroupKey(tenantId, groupId), producerId, commit),
                    transactionSettings(broker), timer, clock);
            timer.scheduleWithFixedDelay(() -> snapshot("transaction-state", transactionLog::maybeSnapshot), 1, 1,
                    TimeUnit.MINUTES);

            QuotaStore quotaStore = QuotaStore.open(dataDir.resolve("security"), sealedFiles);
            QuotaManager quotas = new QuotaManager(quotaStore, new QuotaWindow(
                    broker.intValue(BrokerConfigs.QUOTA_WINDOW_NUM),
                    broker.intValue(BrokerConfigs.QUOTA_WINDOW_SIZE_SECONDS) * 1000L), clock);
            timer.scheduleWithFixedDelay(quotas::expireIdle, 10, 10, TimeUnit.MINUTES);

            AclStore acls = AclStore.open(dataDir.resolve("security"), sealedFiles);
            ApiRegistry apis = apis(cluster, broker, topics, producerIds, sessions, purgatory, groups, transactions,
                    security, acls, quotaStore, sliceOpeners, clock);
            AuditStream auditStream = new AuditStream(topics, security.tenants(), audit.reader(),
                    config.audit().retention().toMillis());
            audit.publishTo(auditStream);
            AuditStage auditStage = new AuditStage(audit, security.tenants(), topics,
                    new TrafficMetrics(metrics, security.tenants()), clock);
            timer.scheduleWithFixedDelay(auditStage::flushSummaries, 1, 1, TimeUnit.MINUTES);
            RequestPipeline pipeline = new RequestPipeline(apis, new QuotaStage(quotas), security.tenants(),
                    auditStage, new RequestTelemetry(tracer, metrics, security.tenants(), topics));
            ConsumerLag consumerLag = new ConsumerLag(groups, topics);
            BrokerGauges gauges = new BrokerGauges(metrics, security.tenants(), topics, groups, consumerLag);
            long gaugeMs = config.telemetry().gaugeInterval().toMillis();
            timer.scheduleWithFixedDelay(() -> sample(gauges), 0, gaugeMs, TimeUnit.MILLISECONDS);

            KafkaListener.Settings settings = new KafkaListener.Settings(
                    broker.intValue(BrokerConfigs.SOCKET_REQUEST_MAX_BYTES),
                    Duration.ofMillis(broker.longValue(BrokerConfigs.CONNECTIONS_MAX_IDLE_MS)));
            security.watchCertificates(config, timer);
            transactions.start();
            List<KafkaListener> listeners = new ArrayList<>();
            for (ListenerSpec spec : specs) {
                KafkaListener listener = new KafkaListener(spec, config.advertisedHost(), settings, apis, pipeline,
                        requestPool, security.tls(), security.sasl(), security.connections(), quotas,
                        security.attempts());
                listener.start(vertx);
                listeners.add(listener);
            }
            LOG.info("Bulwark node {} of cluster {} is serving {} topic(s) from {}", cluster.nodeId(),
                    cluster.clusterId(), logs.topics().size(), dataDir);
            AtRestKeyManagement keys = new AtRestKeyManagement(atRestKeys, logs);
            TenantErasure erasure = new TenantErasure(security.tenants(), security.users(), acls, quotaStore, topics,
                    groups, offsets, transactions, transactionLog, keys, new ErasureRecords(dataDir), clock);
            audit.recordSystem("server.start", "node:" + cluster.nodeId(), Outcome.SUCCESS, null, Map.of(
                    "topics", Integer.toString(logs.topics().size()),
                    "shutdownBefore", logs.startedClean() ? "clean" : "unclean",
                    "partitionsRecovered", Integer.toString(logs.recoveredAtStart())));
            BrokerHealth health = new BrokerHealth(new StorageProbe(List.of(dataDir, dataDir.resolve("log"))),
                    atRestKeys.keyring(), audit);
            return new BulwarkServer(logs, requestPool, sliceOpeners, purgatory, timer, groups, consumerLag,
                    new TenantUsage(topics, security.connections()), security, quotaStore, keys, erasure, audit,
                    auditStage, auditStream, health, listeners);
        } catch (IOException | RuntimeException e) {
            timer.shutdownNow();
            security.close();
            purgatory.close();
            requestPool.shutdownNow();
            sliceOpeners.shutdownNow();
            logs.close();
            audit.close();
            throw e;
        }
    }

    public ConsumerLag consumerLag() {
        return consumerLag;
    }

    /** What each tenant holds against its limits, for the REST API. */
    public TenantUsage tenantUsage() {
        return tenantUsage;
    }

    /** Tenants, users and token validation, for the REST API. */
    public Security security() {
        return security;
    }

    /** The quotas, for the REST API's tenant-wide quotas. */
    public QuotaStore quotas() {
        return quotas;
    }

    /** Key rotation and crypto-shredding of encryption at rest, for the REST API. */
    public AtRestKeyManagement keys() {
        return keys;
    }

    /** The audit trail, for the REST API. */
    public AuditTrail audit() {
        return audit;
    }

    /** Tenant deletion, keys first, for the REST API. */
    public TenantErasure erasure() {
        return erasure;
    }

    /** What readiness checks. */
    public BrokerHealth health() {
        return health;
    }

    /**
     * Every API this broker serves, each with its handler: the table ApiVersions advertises and requests are checked
     * against. Built apart from {@link #start} so that tests use this very table without starting anything.
     */
    public static ApiRegistry apis(ClusterIdentity cluster, BrokerConfigs broker, TopicCatalog topics,
                                   ProducerIds producerIds,
                                   FetchSessions sessions, FetchPurgatory purgatory, GroupCoordinator groups,
                                   TransactionCoordinator transactions, Security security, AclStore acls, QuotaStore quotas,
                                   Executor sliceOpeners, Clock clock) {
        ScramUserNames scramUsers = new ScramUserNames(security.tenants(), security.users());
        AccessControl access = new AccessControl(new Authorizer(acls::index,
                tenantId -> security.tenants().byId(tenantId).map(Tenant::allowEveryoneIfNoAcl).orElse(false)),
                broker.valueString(BrokerConfigs.SUPER_USERS), security.tenants());
        ClientQuotaEntities quotaEntities = new ClientQuotaEntities(security.tenants());
        ApiRegistry apis = new ApiRegistry();
        apis.register(ApiKeys.API_VERSIONS, new ApiVersionsHandler(apis))
                .register(ApiKeys.METADATA, new MetadataHandler(cluster, topics, access))
                .register(ApiKeys.PRODUCE, new ProduceHandler(topics, transactions, access))
                .register(ApiKeys.FETCH, new FetchHandler(topics, sessions, purgatory, access, sliceOpeners))
                .register(ApiKeys.LIST_OFFSETS, new ListOffsetsHandler(topics, access))
                .register(ApiKeys.OFFSET_FOR_LEADER_EPOCH, new OffsetForLeaderEpochHandler(topics, access))
                .register(ApiKeys.INIT_PRODUCER_ID, new InitProducerIdHandler(producerIds, transactions, access))
                .register(ApiKeys.ADD_PARTITIONS_TO_TXN, new AddPartitionsToTxnHandler(topics, transactions, access))
                .register(ApiKeys.ADD_OFFSETS_TO_TXN, new AddOffsetsToTxnHandler(transactions, access))
                .register(ApiKeys.END_TXN, (short) 0, (short) 4, new EndTxnHandler(transactions, access))
                .register(ApiKeys.CREATE_TOPICS, new CreateTopicsHandler(topics, broker, cluster, access))
                .register(ApiKeys.DELETE_TOPICS, new DeleteTopicsHandler(topics, broker, sessions, groups, access))
                .register(ApiKeys.CREATE_PARTITIONS, new CreatePartitionsHandler(topics, cluster, access))
                .register(ApiKeys.DELETE_RECORDS, new DeleteRecordsHandler(topics, access))
                .register(ApiKeys.DESCRIBE_CONFIGS, new DescribeConfigsHandler(topics, broker, cluster, access))
                .register(ApiKeys.ALTER_CONFIGS, new AlterConfigsHandler(topics, broker, cluster, access))
                .register(ApiKeys.INCREMENTAL_ALTER_CONFIGS, new AlterConfigsHandler(topics, broker, cluster, access))
                .register(ApiKeys.DESCRIBE_CLUSTER, new DescribeClusterHandler(cluster, access))
                .register(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, new DescribeTopicPartitionsHandler(topics, cluster, access))
                .register(ApiKeys.FIND_COORDINATOR, new FindCoordinatorHandler(cluster, access))
                .register(ApiKeys.JOIN_GROUP, new JoinGroupHandler(groups, access))
                .register(ApiKeys.SYNC_GROUP, new SyncGroupHandler(groups, access))
                .register(ApiKeys.HEARTBEAT, new HeartbeatHandler(groups, access))
                .register(ApiKeys.LEAVE_GROUP, new LeaveGroupHandler(groups, access))
                .register(ApiKeys.OFFSET_COMMIT, new OffsetCommitHandler(groups, topics,
                        broker.intValue(BrokerConfigs.OFFSET_METADATA_MAX_BYTES), clock, access))
                .register(ApiKeys.OFFSET_FETCH, new OffsetFetchHandler(groups, topics, access))
                .register(ApiKeys.OFFSET_DELETE, new OffsetDeleteHandler(groups, access))
                .register(ApiKeys.TXN_OFFSET_COMMIT, (short) 0, (short) 4, new TxnOffsetCommitHandler(groups,
                        transactions, topics, broker.intValue(BrokerConfigs.OFFSET_METADATA_MAX_BYTES), clock, access))
                .register(ApiKeys.LIST_GROUPS, new ListGroupsHandler(groups, access))
                .register(ApiKeys.DESCRIBE_GROUPS, new DescribeGroupsHandler(groups, access))
                .register(ApiKeys.DELETE_GROUPS, new DeleteGroupsHandler(groups, access))
                .register(ApiKeys.LIST_TRANSACTIONS, new ListTransactionsHandler(transactions, access))
                .register(ApiKeys.DESCRIBE_TRANSACTIONS, new DescribeTransactionsHandler(transactions, access))
                .register(ApiKeys.DESCRIBE_PRODUCERS, new DescribeProducersHandler(topics, access))
                .register(ApiKeys.CREATE_ACLS, new CreateAclsHandler(acls, security.tenants(), access))
                .register(ApiKeys.DESCRIBE_ACLS, new DescribeAclsHandler(acls, security.tenants(), access))
                .register(ApiKeys.DELETE_ACLS, new DeleteAclsHandler(acls, security.tenants(), access))
                .register(ApiKeys.SASL_HANDSHAKE, new SaslOutOfSequenceHandler())
                .register(ApiKeys.SASL_AUTHENTICATE, new SaslOutOfSequenceHandler())
                .register(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS,
                        new DescribeUserScramCredentialsHandler(security.users(), scramUsers))
                .register(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS,
                        new AlterUserScramCredentialsHandler(security.users(), scramUsers))
                .register(ApiKeys.DESCRIBE_CLIENT_QUOTAS, new DescribeClientQuotasHandler(quotas, quotaEntities))
                .register(ApiKeys.ALTER_CLIENT_QUOTAS, new AlterClientQuotasHandler(quotas, quotaEntities));
        return apis;
    }

    private static GroupSettings groupSettings(BrokerConfigs broker) {
        return new GroupSettings(
                Duration.ofMillis(broker.intValue(BrokerConfigs.GROUP_MIN_SESSION_TIMEOUT_MS)),
                Duration.ofMillis(broker.intValue(BrokerConfigs.GROUP_MAX_SESSION_TIMEOUT_MS)),
                Duration.ofMillis(broker.intValue(BrokerConfigs.GROUP_INITIAL_REBALANCE_DELAY_MS)),
                broker.intValue(BrokerConfigs.GROUP_MAX_SIZE),
                Duration.ofMinutes(broker.intValue(BrokerConfigs.OFFSETS_RETENTION_MINUTES)));
    }

    private static TransactionSettings transactionSettings(BrokerConfigs broker) {
        return new TransactionSettings(
                Duration.ofMillis(broker.intValue(BrokerConfigs.TRANSACTION_MAX_TIMEOUT_MS)),
                Duration.ofMillis(broker.intValue(BrokerConfigs.TRANSACTION_ABORT_CHECK_MS)),
                MARKER_RETRY_BACKOFF,
                Duration.ofMillis(broker.intValue(BrokerConfigs.TRANSACTIONAL_ID_EXPIRATION_MS)),
                Duration.ofMillis(broker.intValue(BrokerConfigs.TRANSACTION_ID_EXPIRATION_CHECK_MS)));
    }

    /**
     * Opens the log store; one created with the other {@code bulwark.storage.seal-batches} is refused, saying which
     * setting it needs.
     */
    private static LogManager openLogStore(BulwarkConfig config, Path logDir, StorageSettings settings, AtRestKeys keys,
                                           Map<String, ?> serverDefaults, Clock clock, PartitionLog.Listener listener)
            throws IOException {
        try {
            return LogManager.open(logDir, settings, keys, serverDefaults, clock, listener);
        } catch (BatchSealingMismatchException e) {
            throw new IOException("bulwark.storage.seal-batches=" + config.storage().sealBatches()
                    + " does not match the data directory: " + e.getMessage() + ". Start it with"
                    + " bulwark.storage.seal-batches=" + e.storeSeals() + " (BULWARK_STORAGE_SEAL_BATCHES="
                    + e.storeSeals() + "), or use a fresh data directory", e);
        }
    }

    /**
     * Self-tests AES-GCM and has the JIT compile it, on a thread of its own while the rest starts: without it the
     * first seconds of traffic seal and open batches through the interpreter ({@link AesGcm#warmUp}).
     */
    private static void warmUpCrypto(AtRestKeys keys) {
        Thread warmUp = new Thread(() -> {
            try {
                keys.gcm().warmUp(20_000);
            } catch (RuntimeException e) {
                LOG.error("AES-GCM self-test failed: {}", e.getMessage(), e);
            }
        }, "bulwark-crypto-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
    }

    /** A key-value internal log that bounds itself with snapshots. */
    private interface SnapshotLog {
        void maybeSnapshot(long minRecords) throws IOException;
    }

    /** Bounds an internal log: a snapshot once enough records piled up, and the log before it dropped. */
    private static void snapshot(String name, SnapshotLog log) {
        try {
            log.maybeSnapshot(SNAPSHOT_EVERY);
        } catch (IOException | RuntimeException e) {
            LOG.error("writing the {} snapshot failed", name, e);
        }
    }

    /** A new sample of the gauges; a failure is logged and the next interval tries again. */
    private static void sample(BrokerGauges gauges) {
        try {
            gauges.sample();
        } catch (RuntimeException e) {
            LOG.error("sampling the partition size and consumer lag gauges failed", e);
        }
    }

    private static ExecutorService threads(int count, String prefix) {
        AtomicInteger n = new AtomicInteger();
        return Executors.newFixedThreadPool(count, r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Stops accepting connections, lets running requests finish, then flushes and closes the log store. */
    @Override
    public void close() throws IOException {
        LOG.info("Bulwark is shutting down");
        listeners.forEach(KafkaListener::stop);
        groups.shutdown();
        timer.shutdownNow();
        security.close();
        purgatory.close();
        requestPool.shutdown();
        try {
            if (!requestPool.awaitTermination(10, TimeUnit.SECONDS)) {
                requestPool.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sliceOpeners.shutdown();
        auditStage.flushSummaries();
        try {
            audit.recordSystem("server.stop", null, Outcome.SUCCESS, null, Map.of()).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.error("The stop was not recorded in the audit trail", e);
        }
        auditStream.close();
        logs.close();
        audit.close();
        LOG.info("Bulwark stopped");
    }
}
