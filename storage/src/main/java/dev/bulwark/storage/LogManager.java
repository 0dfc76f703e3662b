package dev.bulwark.storage;

import dev.bulwark.storage.crypto.KeyDestroyedException;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.Keyring;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicIdException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The log store of one data directory: its topics and their partition logs, and the background work that keeps them
 * (retention, compaction, checkpoints, periodic flushes, producer expiry, delayed file deletion).
 *
 * <pre>
 * data/
 *   .lock                       held while a process uses the directory
 *   .clean-shutdown             present only between a clean stop and the next start
 *   checkpoints                 recovery point, log start offset, cleaner checkpoint, corrupt ranges of every partition
 *   batch-sealing               whether topics' record batches are sealed, fixed at creation (BatchSealingRecord)
 *   topics/&lt;topic id&gt;/topic.meta    name, partition count, config overrides (its presence commits a creation)
 *   topics/&lt;topic id&gt;/&lt;n&gt;/         segments (*.log), indexes (*.index), aborted transactions (*.txnindex),
 *                                 producer snapshots (*.snapshot);
 *                                 while compaction swaps a segment in, *.cleaned files and a *.swap manifest
 *   internal/&lt;name&gt;/                 logs of Bulwark's own state (committed offsets), laid out as a partition
 * </pre>
 *
 * Directory names carry topic ids, never names. Segments hold sealed batches ({@link Segment}, {@link Frame});
 * segment indexes and producer snapshots are sealed under their segment's data key; topic metadata (names,
 * configs) is a {@link SealedFiles} file under its tenant's key; transaction indexes and checkpoints hold only producer
 * ids, offsets and positions, in the clear.
 */
public final class LogManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LogManager.class);

    private static final String TOPICS = "topics";
    private static final String INTERNAL = "internal";
    private static final String TOPIC_META = "topic.meta";
    private static final String DELETING_SUFFIX = ".deleting";
    private static final String CLEAN_SHUTDOWN = ".clean-shutdown";
    private static final String CHECKPOINTS = "checkpoints";
    private static final int CHECKPOINT_MAGIC = 0x42574350; // "BWCP"
    /** Version 2 added the cleaner checkpoint and delete horizon; version 1 files still load. */
    private static final byte CHECKPOINT_VERSION = 2;

    /**
     * The data directories this process has open. File locks belong to the process: a second channel to the lock file
     * cannot take the lock, and closing that channel would drop the lock the first holder has, so a second open in
     * this process is refused here, before the lock file is touched.
     */
    private static final Set<Path> OPEN_DIRS = ConcurrentHashMap.newKeySet();

    private final Path dataDir;
    private final Path openDirKey;
    private final Path topicsDir;
    private final StorageSettings settings;
    private final AtRestKeys keys;
    private final SealedFiles sealedFiles;
    private final Clock clock;
    private final PartitionLog.Listener listener;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final FlushScheduler flushScheduler;
    private final ScheduledExecutorService tasks;
    private final LogCleaner cleaner;
    /** The log cleaner's own thread, so compaction never delays retention, checkpoints or deletions. */
    private final ScheduledExecutorService cleanerThread;
    private final Map<Uuid, TopicMetadata> topicsById = new ConcurrentHashMap<>();
    /** Topics by tenant id, then name: a name is unique within its tenant only. */
    private final Map<String, Map<String, TopicMetadata>> topicsByName = new ConcurrentHashMap<>();
    private final Map<PartitionId, PartitionLog> logs = new ConcurrentHashMap<>();
    /** What the start found, kept for internal logs opened after it. */
    private Map<PartitionId, PartitionCheckpoint> startupCheckpoints = Map.of();
    private boolean startedClean;
    private int recoveredAtStart;
    private final Object checkpointLock = new Object();
    private volatile Map<String, ?> serverDefaults;
    private volatile boolean closed;

    private LogManager(Path dataDir, Path openDirKey, StorageSettings settings, AtRestKeys keys,
                       Map<String, ?> serverDefaults, Clock clock, PartitionLog.Listener listener,
                       FileChannel lockChannel, FileLock lock) {
        this.dataDir = dataDir;
        this.openDirKey = openDirKey;
        this.topicsDir = dataDir.resolve(TOPICS);
        this.settings = settings;
        this.keys = keys;
        this.sealedFiles = new SealedFiles(keys);
        this.serverDefaults = Map.copyOf(serverDefaults);
        this.clock = clock;
        this.listener = listener;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.flushScheduler = new FlushScheduler(settings.flushThreads());
        this.tasks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bulwark-log-tasks");
            t.setDaemon(true);
            return t;
        });
        this.cleaner = new LogCleaner(logs::values, clock, LogCleaner.DEFAULT_KEY_MEMORY, this::writeCheckpoints);
        this.cleanerThread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bulwark-log-cleaner");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens (creating if needed) the store in {@code dataDir}, recovering every partition, and starts its background
     * work.
     *
     * <p>Everything the store writes is sealed under data keys from {@code keys}: a topic's segments under keys of
     * its tenant ({@code KeyOwner.tenant(tenantId)}), the internal logs under the broker's ({@code KeyOwner.SYSTEM}).
     * A partition whose data keys do not open (destroyed, shredded, or from another keyring) opens offline.
     *
     * @param keys           the keyring and AES-GCM everything is sealed with
     * @param serverDefaults broker-level topic defaults by Kafka broker name ({@link LogConfig#SERVER_DEFAULTS})
     * @param listener       told whenever a partition's high watermark advances
     * @throws Segment.UnsupportedFormatException (an {@link IOException}) when a segment is of an unsealed format
     * @throws BatchSealingMismatchException       when {@code settings.sealBatches()} is not what the store was
     *                                             created with; nothing is loaded
     */
    public static LogManager open(Path dataDir, StorageSettings settings, AtRestKeys keys,
                                  Map<String, ?> serverDefaults, Clock clock,
                                  PartitionLog.Listener listener) throws IOException {
        Files.createDirectories(dataDir.resolve(TOPICS));
        Path openDirKey = dataDir.toRealPath();
        if (!OPEN_DIRS.add(openDirKey)) {
            throw new IOException("data directory " + dataDir + " is already open in this process");
        }
        FileChannel lockChannel;
        FileLock lock;
        try {
            lockChannel = FileChannel.open(dataDir.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            lock = lockChannel.tryLock();
            if (lock == null) {
                lockChannel.close();
                throw new IOException("data directory " + dataDir + " is in use by another process");
            }
        } catch (IOException | RuntimeException e) {
            OPEN_DIRS.remove(openDirKey);
            throw e;
        }
        LogManager manager = new LogManager(dataDir, openDirKey, settings, keys, serverDefaults, clock, listener,
                lockChannel, lock);
        try {
            manager.loadAll();
        } catch (IOException | RuntimeException e) {
            manager.releaseLock();
            throw e;
        }
        manager.startTasks();
        return manager;
    }

    /**
     * Whether the store in {@code dataDir} seals its topics' record batches, as it recorded when it was created: the
     * {@link StorageSettings#sealBatches} to open it with. True for a store that records nothing (see {@link
     * BatchSealingRecord}).
     */
    public static boolean sealsBatches(Path dataDir) throws IOException {
        return BatchSealingRecord.sealsBatches(dataDir);
    }

    private void loadAll() throws IOException {
        Path cleanMarker = dataDir.resolve(CLEAN_SHUTDOWN);
        boolean clean = Files.exists(cleanMarker);
        boolean fresh = !Files.exists(dataDir.resolve(CHECKPOINTS));
        BatchSealingRecord.checkOrRecord(dataDir, settings.sealBatches(), fresh);
        Map<PartitionId, PartitionCheckpoint> checkpoints = readCheckpoints();
        startupCheckpoints = checkpoints;
        startedClean = clean;
        List<TopicMetadata> topics = new ArrayList<>();
        try (Stream<Path> entries = Files.list(topicsDir)) {
            for (Path topicDir : (Iterable<Path>) entries::iterator) {
                String name = topicDir.getFileName().toString();
                if (name.endsWith(DELETING_SUFFIX) || !Files.exists(topicDir.resolve(TOPIC_META))) {
                    LOG.info("removing {} (an interrupted topic deletion or creation)", topicDir);
                    deleteRecursively(topicDir);
                    continue;
                }
                Optional<TopicMetadata> read = readTopic(topicDir);
                if (read.isEmpty()) {
                    continue;
                }
                TopicMetadata topic = read.get();
                removeSurplusPartitions(topicDir, topic.partitions());
                topics.add(topic);
            }
        }
        AtomicInteger recoveryThreads = new AtomicInteger();
        ExecutorService recovery = Executors.newFixedThreadPool(settings.recoveryThreads(),
                r -> new Thread(r, "bulwark-recovery-" + recoveryThreads.incrementAndGet()));
        try {
            List<Future<LogLoader.Loaded>> loading = new ArrayList<>();
            for (TopicMetadata topic : topics) {
                LogConfig config = resolveConfig(topic.configs());
                for (int p = 0; p < topic.partitions(); p++) {
                    PartitionId id = new PartitionId(topic.id(), p);
                    Path dir = partitionDir(id);
                    Files.createDirectories(dir);
                    PartitionCheckpoint checkpoint = checkpoints.getOrDefault(id, PartitionCheckpoint.NONE);
                    PartitionSealing sealing = sealing(topic, id);
                    loading.add(recovery.submit(() -> LogLoader.load(id, dir, sealing, config, clock,
                            settings.flushPolicy(), flushScheduler, listener, this::retire, checkpoint, clean)));
                }
                topicsById.put(topic.id(), topic);
                named(topic.tenantId()).put(topic.name(), topic);
            }
            int recovered = 0;
            for (Future<LogLoader.Loaded> future : loading) {
                LogLoader.Loaded loaded = future.get();
                logs.put(loaded.log().id(), loaded.log());
                recovered += loaded.recovered() ? 1 : 0;
            }
            recoveredAtStart = recovered;
            LOG.info("log store {} opened: {} topic(s), {} partition(s), {}", dataDir, topics.size(), logs.size(),
                    fresh ? "new store" : clean ? "after a clean shutdown"
                            : recovered + " partition(s) recovered after an unclean shutdown");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening the log store", e);
        } catch (ExecutionException e) {
            closeLogsQuietly();
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("opening a partition failed", e.getCause());
        } finally {
            recovery.shutdown();
        }
        writeCheckpoints();
        Files.deleteIfExists(cleanMarker);
        MetadataFile.syncDirectory(dataDir);
    }

    /**
     * The metadata of the topic in {@code topicDir}; empty when its key was destroyed. When its owner was
     * crypto-shredded (a tenant deletion stopped before it removed this directory, or a copy of the tenant's files was
     * put back) the directory is removed: nothing in it can be read again with this keyring. When only the KEK
     * version it names was destroyed, the directory is left in place and the log says so: that is a keyring restored
     * from an older copy, or files restored from before a rotation, which an operator must look at.
     */
    private Optional<TopicMetadata> readTopic(Path topicDir) throws IOException {
        Uuid id;
        try {
            id = Uuid.fromString(topicDir.getFileName().toString());
        } catch (IllegalArgumentException e) {
            throw new IOException(topicDir + " is not a topic directory (its name is not a topic id)", e);
        }
        try {
            return Optional.of(TopicMetadata.read(sealedFiles, topicDir.resolve(TOPIC_META), id));
        } catch (SealedFiles.SealedFileException e) {
            if (!(e.getCause() instanceof KeyDestroyedException destroyed)) {
                throw e;
            }
            boolean shredded = keys.keyring().versions(destroyed.owner())
                    .map(Keyring.Versions::shredded).orElse(false);
            if (shredded) {
                LOG.warn("removing topic {}: its owner {} was crypto-shredded, so none of it can be read again", id,
                        destroyed.owner());
                deleteRecursively(topicDir);
            } else {
                LOG.warn("topic {} is not loaded: {}", id, e.getMessage());
            }
            return Optional.empty();
        }
    }

    private void removeSurplusPartitions(Path topicDir, int partitions) throws IOException {
        try (Stream<Path> entries = Files.list(topicDir)) {
            for (Path dir : (Iterable<Path>) entries::iterator) {
                String name = dir.getFileName().toString();
                if (Files.isDirectory(dir) && name.chars().allMatch(Character::isDigit)
                        && Integer.parseInt(name) >= partitions) {
                    LOG.info("removing {} (an interrupted partition creation)", dir);
                    deleteRecursively(dir);
                }
            }
        }
    }

    private void startTasks() {
        long retention = settings.retentionCheckInterval().toMillis();
        tasks.scheduleWithFixedDelay(guarded("retention", this::applyRetention), retention, retention,
                TimeUnit.MILLISECONDS);
        long cleanerBackoff = settings.cleanerBackoff().toMillis();
        cleanerThread.scheduleWithFixedDelay(guarded("compaction", cleaner::cleanAll), cleanerBackoff, cleanerBackoff,
                TimeUnit.MILLISECONDS);
        long checkpoint = settings.checkpointInterval().toMillis();
        tasks.scheduleWithFixedDelay(guarded("checkpoint", this::writeCheckpoints), checkpoint, checkpoint,
                TimeUnit.MILLISECONDS);
        long expiry = Math.min(settings.producerIdExpiration().toMillis(), TimeUnit.MINUTES.toMillis(10));
        tasks.scheduleWithFixedDelay(guarded("producer expiry", () -> logs.values()
                        .forEach(log -> log.expireProducers(settings.producerIdExpiration().toMillis()))),
                expiry, expiry, TimeUnit.MILLISECONDS);
        if (settings.flushPolicy() == FlushPolicy.PAGE_CACHE) {
            long flush = settings.flushInterval().toMillis();
            tasks.scheduleWithFixedDelay(guarded("flush", () -> logs.values().stream()
                            .filter(PartitionLog::hasUnflushedData).forEach(flushScheduler::request)),
                    flush, flush, TimeUnit.MILLISECONDS);
        }
    }

    private interface IoTask {
        void run() throws IOException;
    }

    private Runnable guarded(String what, IoTask task) {
        return () -> {
            try {
                task.run();
            } catch (IOException | RuntimeException e) {
                LOG.error("background {} failed", what, e);
            }
        };
    }

    /** Whether the store was opened after a clean shutdown (no partition needed recovery). */
    public boolean startedClean() {
        return startedClean;
    }

    /** How many partitions were recovered (their ends checked and cut back to what is whole) when the store opened. */
    public int recoveredAtStart() {
        return recoveredAtStart;
    }

    // ---------------------------------------------------------------- topics

    /** Every tenant's topics. */
    public Collection<TopicMetadata> topics() {
        return topicsById.values();
    }

    /** A tenant's topics. */
    public Collection<TopicMetadata> topics(String tenantId) {
        return named(tenantId).values();
    }

    public Optional<TopicMetadata> topic(String tenantId, String name) {
        return Optional.ofNullable(named(tenantId).get(name));
    }

    private Map<String, TopicMetadata> named(String tenantId) {
        return topicsByName.computeIfAbsent(tenantId, t -> new ConcurrentHashMap<>());
    }

    public Optional<TopicMetadata> topic(Uuid id) {
        return Optional.ofNullable(topicsById.get(id));
    }

    /**
     * Opens (creating it if needed) a log Bulwark keeps for its own state, outside the topic namespace, in
     * {@code internal/<name>}: recovered, flushed, checkpointed and closed like the topics' logs.
     */
    public synchronized PartitionLog internalLog(String name, Map<String, String> overrides) throws IOException {
        ensureOpen();
        java.util.UUID uuid = java.util.UUID.nameUUIDFromBytes(("bulwark-internal-log:" + name)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        PartitionId id = new PartitionId(new Uuid(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits()), 0);
        PartitionLog existing = logs.get(id);
        if (existing != null) {
            return existing;
        }
        Path dir = dataDir.resolve(INTERNAL).resolve(name);
        boolean created = !Files.exists(dir);
        Files.createDirectories(dir);
        if (created) {
            MetadataFile.syncDirectory(dir.getParent());
        }
        PartitionLog log = LogLoader.load(id, dir, new PartitionSealing(keys, KeyOwner.SYSTEM, id),
                resolveConfig(overrides), clock, settings.flushPolicy(), flushScheduler, listener, this::retire,
                startupCheckpoints.getOrDefault(id, PartitionCheckpoint.NONE), created || startedClean).log();
        logs.put(id, log);
        return log;
    }

    public Optional<PartitionLog> log(Uuid topicId, int partition) {
        return Optional.ofNullable(logs.get(new PartitionId(topicId, partition)));
    }

    /** Checks topic config overrides against the current broker defaults without applying them. */
    public LogConfig validateConfig(Map<String, String> overrides) {
        return resolveConfig(overrides);
    }

    private LogConfig resolveConfig(Map<String, String> overrides) {
        try {
            return LogConfig.resolve(overrides, serverDefaults);
        } catch (ConfigException e) {
            throw new InvalidConfigurationException(e.getMessage());
        }
    }

    /**
     * Creates a topic of a tenant with empty partitions; the topic exists once its metadata file is written.
     *
     * @throws TopicExistsException          when the tenant has a topic of that name
     * @throws InvalidConfigurationException when an override is unknown or invalid
     */
    public synchronized TopicMetadata createTopic(String tenantId, String name, int partitions,
                                                  Map<String, String> configs) throws IOException {
        ensureOpen();
        if (named(tenantId).containsKey(name)) {
            throw new TopicExistsException("Topic '" + name + "' already exists.");
        }
        if (partitions < 1) {
            throw new InvalidPartitionsException("Number of partitions must be at least 1, not " + partitions);
        }
        LogConfig config = resolveConfig(configs);
        TopicMetadata topic = new TopicMetadata(newTopicId(), tenantId, name, partitions, configs);
        Path topicDir = topicsDir.resolve(topic.id().toString());
        Files.createDirectories(topicDir);
        List<PartitionLog> created = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            created.add(createLog(topic, new PartitionId(topic.id(), p), config));
        }
        topic.write(sealedFiles, topicDir.resolve(TOPIC_META));
        MetadataFile.syncDirectory(topicsDir);
        created.forEach(log -> logs.put(log.id(), log));
        topicsById.put(topic.id(), topic);
        named(tenantId).put(name, topic);
        LOG.info("created topic {} ({}) with {} partition(s) and overrides {}", topic.id(), name, partitions,
                configs);
        return topic;
    }

    private Uuid newTopicId() {
        Uuid id = Uuid.randomUuid();
        while (topicsById.containsKey(id) || id.equals(Uuid.ZERO_UUID)) {
            id = Uuid.randomUuid();
        }
        return id;
    }

    private PartitionLog createLog(TopicMetadata topic, PartitionId id, LogConfig config) throws IOException {
        Path dir = partitionDir(id);
        Files.createDirectories(dir);
        MetadataFile.syncDirectory(dir.getParent());
        return LogLoader.load(id, dir, sealing(topic, id), config, clock, settings.flushPolicy(), flushScheduler,
                listener, this::retire, PartitionCheckpoint.NONE, true).log();
    }

    /** A topic's partitions are sealed under keys of the topic's tenant. */
    private PartitionSealing sealing(TopicMetadata topic, PartitionId id) {
        return new PartitionSealing(keys, topic.owner(), id, settings.sealBatches());
    }

    /**
     * Rewraps the data key of every segment of {@code owner}'s partitions (its topics', or the internal logs' for
     * {@link KeyOwner#SYSTEM}) under the owner's current KEK version, and rewrites the metadata of its topics (under a
     * fresh data key of that version, see {@link SealedFiles}): the step between {@code Keyring.rotate} and
     * {@code Keyring.destroyVersionsBefore}. Only segment headers and topic metadata are rewritten; see
     * {@link PartitionLog#rewrapKeys}.
     *
     * <p>Call it after {@code Keyring.rotate} returned. The owner's partitions are listed under this store's lock,
     * which topic and partition creation hold until their logs are listed: a partition created before the list is in
     * it, one created after has its first segment under the new version. A partition deleted during the pass is
     * skipped (its files are going, and nothing reads them again).
     *
     * @return how many segment headers were rewritten
     * @throws KafkaStorageException when a partition is offline, one of its data keys does not rewrap, or a topic's
     *                               metadata cannot be rewritten: the older versions must then not be destroyed
     */
    public int rewrapKeys(KeyOwner owner) {
        List<PartitionLog> owned;
        synchronized (this) {
            ensureOpen();
            // Under the lock that serialises topic changes, so a concurrent change is not overwritten by older content.
            for (TopicMetadata topic : topicsById.values()) {
                if (topic.owner().equals(owner)) {
                    try {
                        topic.write(sealedFiles, topicsDir.resolve(topic.id().toString()).resolve(TOPIC_META));
                    } catch (IOException e) {
                        throw new KafkaStorageException("the metadata of topic " + topic.id() + " could not be "
                                + "rewritten under the current key version: " + e.getMessage(), e);
                    }
                }
            }
            owned = logs.values().stream().filter(log -> log.sealing().owner().equals(owner)).toList();
        }
        int rewritten = 0;
        for (PartitionLog log : owned) {
            try {
                rewritten += log.rewrapKeys();
            } catch (KafkaStorageException e) {
                if (logs.get(log.id()) == log) {
                    throw e;
                }
                LOG.info("{}: deleted during the rewrap pass; skipped", log.id());
            }
        }
        return rewritten;
    }

    /** Grows a topic to {@code newCount} partitions. */
    public synchronized TopicMetadata addPartitions(Uuid topicId, int newCount) throws IOException {
        ensureOpen();
        TopicMetadata topic = topicsById.get(topicId);
        if (topic == null) {
            throw new UnknownTopicIdException("Topic id " + topicId + " does not exist");
        }
        if (newCount <= topic.partitions()) {
            throw new InvalidPartitionsException("Topic currently has " + topic.partitions()
                    + " partitions, which is higher than or equal to the requested " + newCount + ".");
        }
        LogConfig config = resolveConfig(topic.configs());
        List<PartitionLog> created = new ArrayList<>();
        for (int p = topic.partitions(); p < newCount; p++) {
            created.add(createLog(topic, new PartitionId(topicId, p), config));
        }
        TopicMetadata grown = topic.withPartitions(newCount);
        grown.write(sealedFiles, topicsDir.resolve(topicId.toString()).resolve(TOPIC_META));
        created.forEach(log -> logs.put(log.id(), log));
        topicsById.put(topicId, grown);
        named(grown.tenantId()).put(grown.name(), grown);
        LOG.info("topic {} now has {} partitions", grown.name(), newCount);
        return grown;
    }

    /** Replaces a topic's config overrides. */
    public synchronized TopicMetadata alterTopicConfigs(Uuid topicId, Map<String, String> overrides) throws IOException {
        ensureOpen();
        TopicMetadata topic = topicsById.get(topicId);
        if (topic == null) {
            throw new UnknownTopicIdException("Topic id " + topicId + " does not exist");
        }
        LogConfig config = resolveConfig(overrides);
        TopicMetadata altered = topic.withConfigs(overrides);
        altered.write(sealedFiles, topicsDir.resolve(topicId.toString()).resolve(TOPIC_META));
        topicsById.put(topicId, altered);
        named(altered.tenantId()).put(altered.name(), altered);
        for (int p = 0; p < altered.partitions(); p++) {
            PartitionLog log = logs.get(new PartitionId(topicId, p));
            if (log != null) {
                log.updateConfig(config);
            }
        }
        LOG.info("topic {} config overrides are now {}", altered.name(), overrides);
        return altered;
    }

    /** Applies new broker-level defaults to every topic that does not override them. */
    public synchronized void updateServerDefaults(Map<String, ?> newDefaults) {
        LogConfig.resolve(Map.of(), newDefaults);
        serverDefaults = Map.copyOf(newDefaults);
        for (TopicMetadata topic : topicsById.values()) {
            LogConfig config = resolveConfig(topic.configs());
            for (int p = 0; p < topic.partitions(); p++) {
                PartitionLog log = logs.get(new PartitionId(topic.id(), p));
                if (log != null) {
                    log.updateConfig(config);
                }
            }
        }
    }

    /** Deletes a topic: it disappears at once (a directory rename), its files are removed after. */
    public synchronized void deleteTopic(Uuid topicId) throws IOException {
        ensureOpen();
        TopicMetadata topic = topicsById.remove(topicId);
        if (topic == null) {
            throw new UnknownTopicIdException("Topic id " + topicId + " does not exist");
        }
        named(topic.tenantId()).remove(topic.name());
        Path topicDir = topicsDir.resolve(topicId.toString());
        Path doomed = topicsDir.resolve(topicId + DELETING_SUFFIX);
        Files.move(topicDir, doomed);
        MetadataFile.syncDirectory(topicsDir);
        for (int p = 0; p < topic.partitions(); p++) {
            PartitionLog log = logs.remove(new PartitionId(topicId, p));
            if (log != null) {
                log.closeForDeletion();
            }
        }
        tasks.execute(guarded("deleting " + doomed, () -> deleteRecursively(doomed)));
        LOG.info("deleted topic {} ({})", topic.name(), topicId);
    }

    // ---------------------------------------------------------------- records

    /**
     * Moves a partition's log start offset (DeleteRecords), records it durably and drops the segments below it.
     *
     * @param offset the new log start offset, or -1 for the high watermark
     * @return the log start offset afterwards
     */
    public long deleteRecords(PartitionLog log, long offset) throws IOException {
        long target = offset == -1 ? log.highWatermark() : offset;
        long start = log.advanceLogStartOffset(target);
        writeCheckpoints();
        log.applyRetention();
        return start;
    }

    /** Runs retention on every partition now. */
    public void applyRetention() {
        for (PartitionLog log : logs.values()) {
            try {
                log.applyRetention();
            } catch (KafkaStorageException e) {
                LOG.error("retention of {} failed: {}", log.id(), e.getMessage());
            }
        }
    }

    /**
     * Compacts now every partition whose cleanup.policy includes compact and that is due (dirty ratio,
     * max.compaction.lag.ms, or tombstones past their delete horizon); the cleaner thread does the same every
     * cleaner backoff.
     *
     * @return how many partitions were compacted
     */
    public int compactLogs() {
        ensureOpen();
        return cleaner.cleanAll();
    }

    LogCleaner cleaner() {
        return cleaner;
    }

    private void retire(Segment segment, long delayMs) {
        Runnable delete = guarded("deleting " + segment, segment::deleteFiles);
        if (closed) {
            delete.run();
        } else {
            tasks.schedule(delete, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    // ---------------------------------------------------------------- checkpoints

    /**
     * Writes every partition's recovery point, log start offset, cleaner checkpoint and corrupt ranges.
     *
     * <p>File format ({@link MetadataFile} payload, version 2): i32 partition count, then per partition: i64 topic id
     * high bits, i64 low bits, i32 partition, i64 recovery point, i64 log start offset, i64 first dirty offset (the
     * cleaner checkpoint), i64 delete horizon (-1 for none), i32 corrupt range count, then per range: i64 segment base
     * offset, i32 start position, i32 end position, i64 first offset, i64 end offset, i64 reserved. Version 1 lacks
     * the two cleaner fields.
     */
    public void writeCheckpoints() throws IOException {
        synchronized (checkpointLock) {
            List<PartitionLog> snapshot = new ArrayList<>(logs.values());
            snapshot.sort(Comparator.comparing((PartitionLog l) -> l.id().topicId())
                    .thenComparingInt(l -> l.id().partition()));
            List<Map.Entry<PartitionLog, List<Map.Entry<Long, Segment.CorruptRange>>>> entries = new ArrayList<>();
            int size = 4;
            for (PartitionLog log : snapshot) {
                List<Map.Entry<Long, Segment.CorruptRange>> ranges = log.corruptRanges();
                entries.add(Map.entry(log, ranges));
                size += 16 + 4 + 8 + 8 + 8 + 8 + 4 + ranges.size() * 40;
            }
            ByteBuffer buffer = ByteBuffer.allocate(size);
            buffer.putInt(entries.size());
            for (Map.Entry<PartitionLog, List<Map.Entry<Long, Segment.CorruptRange>>> e : entries) {
                PartitionLog log = e.getKey();
                buffer.putLong(log.id().topicId().getMostSignificantBits())
                        .putLong(log.id().topicId().getLeastSignificantBits())
                        .putInt(log.id().partition())
                        .putLong(log.recoveryPoint())
                        .putLong(log.logStartOffset())
                        .putLong(log.firstDirtyOffset())
                        .putLong(log.deleteHorizonMs())
                        .putInt(e.getValue().size());
                for (Map.Entry<Long, Segment.CorruptRange> r : e.getValue()) {
                    Segment.CorruptRange range = r.getValue();
                    buffer.putLong(r.getKey()).putInt(range.startPosition()).putInt(range.endPosition())
                            .putLong(range.fromOffset()).putLong(range.toOffset()).putLong(0L);
                }
            }
            MetadataFile.write(dataDir.resolve(CHECKPOINTS), CHECKPOINT_MAGIC, CHECKPOINT_VERSION, buffer.array());
        }
    }

    private Map<PartitionId, PartitionCheckpoint> readCheckpoints() throws IOException {
        Optional<MetadataFile.Content> content = MetadataFile.read(dataDir.resolve(CHECKPOINTS), CHECKPOINT_MAGIC);
        Map<PartitionId, PartitionCheckpoint> result = new HashMap<>();
        if (content.isEmpty()) {
            return result;
        }
        byte version = content.get().version();
        if (version != 1 && version != CHECKPOINT_VERSION) {
            throw new IOException("unsupported checkpoint format version " + version);
        }
        ByteBuffer buffer = content.get().payload();
        int count = buffer.getInt();
        for (int i = 0; i < count; i++) {
            PartitionId id = new PartitionId(new Uuid(buffer.getLong(), buffer.getLong()), buffer.getInt());
            long recoveryPoint = buffer.getLong();
            long logStart = buffer.getLong();
            // Before version 2 nothing was compacted: everything is dirty, and no tombstone waits.
            long firstDirty = version >= 2 ? buffer.getLong() : 0;
            long deleteHorizon = version >= 2 ? buffer.getLong() : -1;
            int ranges = buffer.getInt();
            List<PartitionCheckpoint.SegmentRange> corrupt = new ArrayList<>();
            for (int r = 0; r < ranges; r++) {
                long segmentBase = buffer.getLong();
                Segment.CorruptRange range = new Segment.CorruptRange(buffer.getInt(), buffer.getInt(),
                        buffer.getLong(), buffer.getLong());
                buffer.getLong(); // reserved
                corrupt.add(new PartitionCheckpoint.SegmentRange(segmentBase, range));
            }
            result.put(id, new PartitionCheckpoint(recoveryPoint, logStart, corrupt, firstDirty, deleteHorizon));
        }
        return result;
    }

    // ---------------------------------------------------------------- lifecycle

    private Path partitionDir(PartitionId id) {
        return topicsDir.resolve(id.topicId().toString()).resolve(Integer.toString(id.partition()));
    }

    private void ensureOpen() {
        if (closed) {
            throw new KafkaStorageException("the log store is closed");
        }
    }

    /** Flushes and closes every partition, writes checkpoints and marks the shutdown clean. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        stopCleaner();
        tasks.shutdownNow();
        boolean clean = true;
        for (PartitionLog log : logs.values()) {
            try {
                log.close();
            } catch (IOException | RuntimeException e) {
                clean = false;
                LOG.error("closing {} failed", log.id(), e);
            }
        }
        try {
            flushScheduler.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writeCheckpoints();
        if (clean && logs.values().stream().noneMatch(PartitionLog::isOffline)) {
            Files.write(dataDir.resolve(CLEAN_SHUTDOWN), new byte[0]);
            MetadataFile.syncDirectory(dataDir);
        }
        releaseLock();
        LOG.info("log store {} closed{}", dataDir, clean ? " cleanly" : " with errors");
    }

    /** Stops the cleaner between batches and waits for it; never by interrupting it (see {@link LogCleaner}). */
    private void stopCleaner() {
        cleaner.stop();
        cleanerThread.shutdown();
        try {
            if (!cleanerThread.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("the log cleaner did not stop within 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeLogsQuietly() {
        for (PartitionLog log : logs.values()) {
            log.closeForDeletion();
        }
    }

    private void releaseLock() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.warn("releasing the data directory lock failed: {}", e.toString());
        } finally {
            OPEN_DIRS.remove(openDirKey);
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
