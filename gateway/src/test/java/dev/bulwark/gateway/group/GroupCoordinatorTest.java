package dev.bulwark.gateway.group;

import dev.bulwark.gateway.group.GroupCoordinator.JoinRequest;
import dev.bulwark.gateway.group.GroupCoordinator.MemberIdentity;
import dev.bulwark.gateway.testing.ManualScheduler;
import dev.bulwark.gateway.testing.TestLogs;
import dev.bulwark.storage.LogManager;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classic group protocol as Kafka's clients expect it, driven directly: joins, syncs, heartbeats and commits are
 * method calls, and time moves only when the test advances the {@link ManualScheduler} the coordinator's timers and
 * clock run on. Committed offsets go to a real offsets log.
 */
class GroupCoordinatorTest {

    private static final String TENANT = "tenant-under-test";

    private static GroupKey key(String groupId) {
        return new GroupKey(TENANT, groupId);
    }

    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;
    private static final Duration RETENTION = Duration.ofDays(7);
    private static final TopicPartition ORDERS_0 = new TopicPartition("orders", 0);
    private static final TopicPartition ORDERS_1 = new TopicPartition("orders", 1);

    @TempDir
    Path dir;

    private final ManualScheduler timer = new ManualScheduler();
    private LogManager logs;
    private OffsetStore offsets;
    private GroupCoordinator coordinator;

    /** A member as a client knows itself after a join: its id and generation (and instance id if static). */
    private record Member(String group, String id, String instanceId, int generation) {
    }

    @BeforeEach
    void open() throws IOException {
        logs = TestLogs.open(dir.resolve("log"), timer.clock());
        offsets = OffsetStore.open(logs.internalLog("consumer-offsets", Map.of()), dir.resolve("offsets.snapshot"),
                TestLogs.sealedFiles(dir), timer.clock());
        coordinator = coordinator(Duration.ZERO, Integer.MAX_VALUE);
    }

    @AfterEach
    void close() throws IOException {
        coordinator.shutdown();
        logs.close();
    }

    private GroupCoordinator coordinator(Duration initialDelay, int maxSize) {
        return new GroupCoordinator(new GroupSettings(Duration.ofMillis(6_000), Duration.ofMillis(1_800_000),
                initialDelay, maxSize, RETENTION), offsets, timer, timer.clock());
    }

    // ---------------------------------------------------------------- joining

    @Test
    void aNewMemberOfJoinGroupV4IsFirstAskedToComeBackWithTheIdItIsGiven() {
        JoinResult first = done(coordinator.join(joinV4("g", "", "range")));

        assertEquals(Errors.MEMBER_ID_REQUIRED, first.error());
        assertFalse(first.memberId().isEmpty());
        assertEquals(List.of(), coordinator.describe(key("g")).orElseThrow().members(), "not a member yet");

        JoinResult joined = done(coordinator.join(joinV4("g", first.memberId(), "range")));

        assertEquals(Errors.NONE, joined.error());
        assertEquals(first.memberId(), joined.memberId());
        assertEquals(1, joined.generationId());
        assertEquals(first.memberId(), joined.leaderId());
        assertEquals("consumer", joined.protocolType());
        assertEquals("range", joined.protocolName());
        assertEquals(1, joined.members().size());
        assertArrayEquals(bytes("range-metadata"), joined.members().get(0).metadata());
    }

    @Test
    void aMemberIdThatIsNeverUsedHoldsTheRebalanceOnlyUntilItsSessionTimeout() {
        JoinResult pending = done(coordinator.join(joinV4("g", "", "range")));
        assertEquals(Errors.MEMBER_ID_REQUIRED, pending.error());

        CompletableFuture<JoinResult> other = coordinator.join(join("g", "", "range"));
        assertFalse(other.isDone(), "the rebalance waits for the member that was given an id");

        timer.advance(Duration.ofMillis(SESSION_MS));

        JoinResult joined = done(other);
        assertEquals(Errors.NONE, joined.error());
        assertEquals(1, joined.members().size());
        assertEquals(Errors.UNKNOWN_MEMBER_ID, done(coordinator.join(joinV4("g", pending.memberId(), "range"))).error(),
                "the expired id is no longer accepted");
    }

    @Test
    void aSingleMemberJoinsThenSyncsTheAssignmentItComputed() {
        JoinResult joined = done(coordinator.join(join("g", "", "range")));
        assertEquals(GroupState.COMPLETING_REBALANCE, state("g"));

        SyncResult synced = done(coordinator.sync(key("g"), joined.generationId(), joined.memberId(), null, "consumer",
                "range", Map.of(joined.memberId(), bytes("orders-0,orders-1"))));

        assertEquals(Errors.NONE, synced.error());
        assertArrayEquals(bytes("orders-0,orders-1"), synced.assignment());
        assertEquals("consumer", synced.protocolType());
        assertEquals("range", synced.protocolName());
        assertEquals(GroupState.STABLE, state("g"));
        assertEquals(Errors.NONE, heartbeat(new Member("g", joined.memberId(), null, joined.generationId())));
        GroupCoordinator.MemberDescription described = coordinator.describe(key("g")).orElseThrow().members().get(0);
        assertArrayEquals(bytes("orders-0,orders-1"), described.assignment());
        assertArrayEquals(bytes("range-metadata"), described.metadata());
    }

    @Test
    void twoMembersTheLeaderGetsTheMemberListAndTheFollowerWaitsForItsAssignment() {
        Member a = stableAlone("g", null);
        CompletableFuture<JoinResult> bJoin = coordinator.join(join("g", "", "range"));
        assertFalse(bJoin.isDone(), "the second member waits for the first to rejoin");
        assertEquals(Errors.REBALANCE_IN_PROGRESS, heartbeat(a));

        JoinResult aJoined = done(coordinator.join(join("g", a.id(), "range")));
        JoinResult bJoined = done(bJoin);

        assertEquals(2, aJoined.generationId());
        assertEquals(2, bJoined.generationId());
        assertEquals(a.id(), aJoined.leaderId(), "the leader keeps its role");
        assertEquals(a.id(), bJoined.leaderId());
        assertEquals(List.of(a.id(), bJoined.memberId()),
                aJoined.members().stream().map(JoinResult.JoinedMember::memberId).toList());
        assertEquals(List.of(), bJoined.members(), "followers are not told the members");

        CompletableFuture<SyncResult> bSync = coordinator.sync(key("g"), 2, bJoined.memberId(), null, "consumer", "range",
                Map.of());
        assertFalse(bSync.isDone(), "a follower's SyncGroup waits for the leader's");
        SyncResult aSync = done(coordinator.sync(key("g"), 2, a.id(), null, "consumer", "range",
                Map.of(a.id(), bytes("orders-0"), bJoined.memberId(), bytes("orders-1"))));

        assertArrayEquals(bytes("orders-0"), aSync.assignment());
        assertArrayEquals(bytes("orders-1"), done(bSync).assignment());
        assertEquals(GroupState.STABLE, state("g"));
    }

    @Test
    void aRebalanceStartingWhileAFollowerWaitsInSyncGroupTellsItToRejoin() {
        Member a = stableAlone("g", null);
        CompletableFuture<JoinResult> bJoin = coordinator.join(join("g", "", "range"));
        done(coordinator.join(join("g", a.id(), "range")));
        JoinResult b = done(bJoin);
        CompletableFuture<SyncResult> bSync = coordinator.sync(key("g"), b.generationId(), b.memberId(), null, "consumer",
                "range", Map.of());

        coordinator.join(join("g", "", "range"));

        assertEquals(Errors.REBALANCE_IN_PROGRESS, done(bSync).error());
        assertEquals(Errors.REBALANCE_IN_PROGRESS, done(coordinator.sync(key("g"), b.generationId(), b.memberId(), null,
                "consumer", "range", Map.of())).error());
    }

    @Test
    void requestsOfAnOlderGenerationAreIllegal() {
        Member a = stableAlone("g", null);
        Member b = joinSecondAndStabilize(a).follower();
        Member stale = new Member("g", a.id(), null, a.generation());

        assertEquals(2, b.generation());
        assertEquals(Errors.ILLEGAL_GENERATION, heartbeat(stale));
        assertEquals(Errors.ILLEGAL_GENERATION, done(coordinator.sync(key("g"), stale.generation(), stale.id(), null,
                "consumer", "range", Map.of())).error());
        assertEquals(Errors.ILLEGAL_GENERATION, commit(stale, ORDERS_0, 5));
    }

    @Test
    void membersAndGroupsTheCoordinatorDoesNotKnowAreUnknownMembers() {
        Member a = stableAlone("g", null);
        Member stranger = new Member("g", "nobody", null, a.generation());

        assertEquals(Errors.UNKNOWN_MEMBER_ID, heartbeat(stranger));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, done(coordinator.sync(key("g"), a.generation(), "nobody", null, "consumer",
                "range", Map.of())).error());
        assertEquals(Errors.UNKNOWN_MEMBER_ID, done(coordinator.join(join("g", "nobody", "range"))).error());
        assertEquals(Errors.UNKNOWN_MEMBER_ID, commit(stranger, ORDERS_0, 1));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, heartbeat(new Member("no-such-group", a.id(), null, 1)));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, done(coordinator.join(join("no-such-group", a.id(), "range"))).error());
    }

    // ---------------------------------------------------------------- static membership (KIP-345)

    @Test
    void aStaticMemberReplacedByANewInstanceIsFenced() {
        Member old = stableAlone("g", "instance-1");

        JoinResult replacement = done(coordinator.join(joinStatic("g", "", "instance-1", "range")));

        assertEquals(Errors.NONE, replacement.error());
        assertNotEquals(old.id(), replacement.memberId());
        assertEquals(old.generation(), replacement.generationId(), "same subscription: no rebalance");
        assertEquals(Errors.FENCED_INSTANCE_ID, heartbeat(old));
        assertEquals(Errors.FENCED_INSTANCE_ID, done(coordinator.sync(key("g"), old.generation(), old.id(), "instance-1",
                "consumer", "range", Map.of())).error());
        assertEquals(Errors.FENCED_INSTANCE_ID, commit(old, ORDERS_0, 7));
        assertEquals(Errors.FENCED_INSTANCE_ID, done(coordinator.join(joinStatic("g", old.id(), "instance-1",
                "range"))).error());
        assertEquals(Errors.NONE, heartbeat(new Member("g", replacement.memberId(), "instance-1",
                replacement.generationId())), "the new instance is the member now");
    }

    @Test
    void aStaticMemberWaitingInJoinGroupIsFencedWhenANewInstanceTakesItsPlace() {
        Pair both = joinSecondAndStabilize(stableAlone("g", "instance-1"));
        Member old = both.leader();
        CompletableFuture<JoinResult> oldRejoin = coordinator.join(joinStatic("g", old.id(), "instance-1", "range"));
        assertFalse(oldRejoin.isDone(), "waiting for the follower to rejoin");

        CompletableFuture<JoinResult> replacement = coordinator.join(joinStatic("g", "", "instance-1", "range"));

        assertEquals(Errors.FENCED_INSTANCE_ID, done(oldRejoin).error());
        assertFalse(replacement.isDone(), "the new instance takes the old one's place in the rebalance");
        done(coordinator.join(join("g", both.follower().id(), "range")));
        assertEquals(Errors.NONE, done(replacement).error());
        assertEquals(old.generation() + 1, done(replacement).generationId());
    }

    @Test
    void aRestartedStaticMemberGetsItsAssignmentBackWithoutARebalance() {
        Member leader = stableAlone("g", null);
        CompletableFuture<JoinResult> staticJoin = coordinator.join(joinStatic("g", "", "instance-1", "range"));
        done(coordinator.join(join("g", leader.id(), "range")));
        JoinResult before = done(staticJoin);
        done(coordinator.sync(key("g"), 2, leader.id(), null, "consumer", "range",
                Map.of(leader.id(), bytes("orders-0"), before.memberId(), bytes("orders-1"))));
        done(coordinator.sync(key("g"), 2, before.memberId(), "instance-1", "consumer", "range", Map.of()));

        JoinResult restarted = done(coordinator.join(joinStatic("g", "", "instance-1", "range")));

        assertEquals(Errors.NONE, restarted.error());
        assertEquals(2, restarted.generationId(), "no new generation");
        assertEquals(leader.id(), restarted.leaderId());
        assertEquals(GroupState.STABLE, state("g"));
        assertEquals(Errors.NONE, heartbeat(new Member("g", leader.id(), null, 2)), "the others keep working");
        SyncResult synced = done(coordinator.sync(key("g"), 2, restarted.memberId(), "instance-1", "consumer", "range",
                Map.of()));
        assertArrayEquals(bytes("orders-1"), synced.assignment(), "its previous assignment");
    }

    @Test
    void aRestartedStaticLeaderIsToldToSkipTheAssignmentButSeesTheMembers() {
        Member leader = stableAlone("g", "leader-instance");

        JoinResult restarted = done(coordinator.join(joinStatic("g", "", "leader-instance", "range")));

        assertEquals(Errors.NONE, restarted.error());
        assertEquals(leader.generation(), restarted.generationId());
        assertEquals(restarted.memberId(), restarted.leaderId());
        assertTrue(restarted.skipAssignment(), "JoinGroup v9: keep the current assignment");
        assertEquals(List.of(restarted.memberId()),
                restarted.members().stream().map(JoinResult.JoinedMember::memberId).toList());
        assertEquals(GroupState.STABLE, state("g"));
    }

    // ---------------------------------------------------------------- timeouts

    @Test
    void aMemberThatMissesItsSessionTimeoutIsRemovedAndTheGroupRebalances() {
        Pair both = joinSecondAndStabilize(stableAlone("g", null));
        Member a = both.leader();
        Member b = both.follower();

        timer.advance(Duration.ofMillis(SESSION_MS - 4_000));
        assertEquals(Errors.NONE, heartbeat(a));
        timer.advance(Duration.ofMillis(3_999));
        assertEquals(GroupState.STABLE, state("g"), "b's session has a millisecond left");
        timer.advance(Duration.ofMillis(1));

        assertEquals(GroupState.PREPARING_REBALANCE, state("g"));
        assertEquals(Errors.REBALANCE_IN_PROGRESS, heartbeat(a));
        JoinResult rejoined = done(coordinator.join(join("g", a.id(), "range")));
        assertEquals(b.generation() + 1, rejoined.generationId());
        assertEquals(List.of(a.id()), rejoined.members().stream().map(JoinResult.JoinedMember::memberId).toList());
        assertEquals(Errors.UNKNOWN_MEMBER_ID, heartbeat(b));
    }

    @Test
    void membersThatDoNotRejoinWithinTheRebalanceTimeoutAreDropped() {
        Pair both = joinSecondAndStabilize(stableAlone("g", null));
        Member a = both.leader();
        Member b = both.follower();

        CompletableFuture<JoinResult> aRejoin = coordinator.join(join("g", a.id(), "range"));
        for (int elapsed = 0; elapsed + 5_000 < REBALANCE_MS; elapsed += 5_000) {
            timer.advance(Duration.ofMillis(5_000));
            assertEquals(Errors.REBALANCE_IN_PROGRESS, heartbeat(b), "b keeps its session but does not rejoin");
        }
        timer.advance(Duration.ofMillis(4_999));
        assertFalse(aRejoin.isDone());
        timer.advance(Duration.ofMillis(1));

        JoinResult joined = done(aRejoin);
        assertEquals(Errors.NONE, joined.error());
        assertEquals(b.generation() + 1, joined.generationId());
        assertEquals(List.of(a.id()), joined.members().stream().map(JoinResult.JoinedMember::memberId).toList());
        assertEquals(Errors.UNKNOWN_MEMBER_ID, heartbeat(b));
    }

    @Test
    void aNewGroupWaitsTheInitialRebalanceDelayAndEachJoinExtendsIt() {
        coordinator = coordinator(Duration.ofMillis(3_000), Integer.MAX_VALUE);

        CompletableFuture<JoinResult> a = coordinator.join(join("g", "", "range"));
        timer.advance(Duration.ofMillis(2_000));
        CompletableFuture<JoinResult> b = coordinator.join(join("g", "", "range"));
        timer.advance(Duration.ofMillis(2_999));
        assertFalse(a.isDone(), "b's join restarted the delay");
        assertFalse(b.isDone());
        timer.advance(Duration.ofMillis(1));

        assertEquals(1, done(a).generationId());
        assertEquals(1, done(b).generationId());
        assertEquals(2, done(a).members().size(), "one rebalance for both");
    }

    @Test
    void theInitialRebalanceDelayNeverOutlastsTheRebalanceTimeout() {
        coordinator = coordinator(Duration.ofMillis(3_000), Integer.MAX_VALUE);
        JoinRequest shortTimeout = new JoinRequest(key("g"), "", null, "client", "/127.0.0.1", SESSION_MS, 5_000,
                "consumer", protocols("range"), false, true);

        CompletableFuture<JoinResult> a = coordinator.join(shortTimeout);
        timer.advance(Duration.ofMillis(2_500));
        coordinator.join(shortTimeout);
        timer.advance(Duration.ofMillis(2_400));
        coordinator.join(shortTimeout);
        timer.advance(Duration.ofMillis(99));
        assertFalse(a.isDone());
        timer.advance(Duration.ofMillis(1));

        assertEquals(3, done(a).members().size());
    }

    // ---------------------------------------------------------------- admission

    @Test
    void aGroupAtGroupMaxSizeRefusesNewMembers() {
        coordinator = coordinator(Duration.ZERO, 2);
        Member a = stableAlone("g", null);
        coordinator.join(join("g", "", "range"));

        assertEquals(Errors.GROUP_MAX_SIZE_REACHED, done(coordinator.join(join("g", "", "range"))).error());
        assertEquals(Errors.GROUP_MAX_SIZE_REACHED, done(coordinator.join(joinV4("g", "", "range"))).error());
        assertEquals(Errors.GROUP_MAX_SIZE_REACHED,
                done(coordinator.join(joinStatic("g", "", "instance-9", "range"))).error());
        assertEquals(Errors.NONE, done(coordinator.join(join("g", a.id(), "range"))).error(), "members still rejoin");
    }

    @Test
    void aMemberWithNoAssignorInCommonOrAnotherProtocolTypeIsInconsistent() {
        stableAlone("g", null);

        assertEquals(Errors.INCONSISTENT_GROUP_PROTOCOL, done(coordinator.join(join("g", "", "roundrobin"))).error());
        JoinRequest connect = new JoinRequest(key("g"), "", null, "client", "/127.0.0.1", SESSION_MS, REBALANCE_MS,
                "connect", protocols("range"), false, true);
        assertEquals(Errors.INCONSISTENT_GROUP_PROTOCOL, done(coordinator.join(connect)).error());
        assertEquals(Errors.INCONSISTENT_GROUP_PROTOCOL, done(coordinator.join(join("other", ""))).error(),
                "a first member without any assignor");
        assertEquals(GroupState.STABLE, state("g"), "refused joins start no rebalance");

        CompletableFuture<JoinResult> sharesRange = coordinator.join(join("g", "", "roundrobin", "range"));

        assertFalse(sharesRange.isDone(), "one assignor in common is enough: it is in, waiting for the rebalance");
        assertEquals(GroupState.PREPARING_REBALANCE, state("g"));
    }

    @Test
    void sessionTimeoutsOutsideTheBrokersBoundsAreInvalid() {
        for (int sessionMs : new int[] {5_999, 1_800_001}) {
            JoinRequest r = new JoinRequest(key("g"), "", null, "client", "/127.0.0.1", sessionMs, REBALANCE_MS, "consumer",
                    protocols("range"), false, true);
            assertEquals(Errors.INVALID_SESSION_TIMEOUT, done(coordinator.join(r)).error(), sessionMs + " ms");
        }
        for (int sessionMs : new int[] {6_000, 1_800_000}) {
            JoinRequest r = new JoinRequest(key("g-" + sessionMs), "", null, "client", "/127.0.0.1", sessionMs, REBALANCE_MS,
                    "consumer", protocols("range"), false, true);
            assertEquals(Errors.NONE, done(coordinator.join(r)).error(), sessionMs + " ms");
        }
    }

    // ---------------------------------------------------------------- leaving

    @Test
    void aMemberLeavesByItsMemberIdAndTheOthersRebalance() {
        Pair both = joinSecondAndStabilize(stableAlone("g", null));
        Member a = both.leader();
        Member b = both.follower();

        assertEquals(List.of(Errors.NONE), coordinator.leave(key("g"), List.of(new MemberIdentity(b.id(), null))));

        assertEquals(GroupState.PREPARING_REBALANCE, state("g"));
        JoinResult rejoined = done(coordinator.join(join("g", a.id(), "range")));
        assertEquals(1, rejoined.members().size());
        assertEquals(List.of(Errors.UNKNOWN_MEMBER_ID), coordinator.leave(key("g"), List.of(new MemberIdentity(b.id(), null))));
        assertEquals(List.of(Errors.UNKNOWN_MEMBER_ID),
                coordinator.leave(key("no-such-group"), List.of(new MemberIdentity(a.id(), null))));
    }

    @Test
    void aStaticMemberLeavesByItsInstanceId() {
        Member s = stableAlone("g", "instance-1");

        assertEquals(List.of(Errors.FENCED_INSTANCE_ID),
                coordinator.leave(key("g"), List.of(new MemberIdentity("someone-else", "instance-1"))));
        assertEquals(List.of(Errors.NONE, Errors.UNKNOWN_MEMBER_ID), coordinator.leave(key("g"), List.of(
                new MemberIdentity("", "instance-1"), new MemberIdentity("", "instance-2"))));

        assertEquals(GroupState.EMPTY, state("g"));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, heartbeat(s));
    }

    // ---------------------------------------------------------------- offset commits

    @Test
    void aGroupWithoutMembersTakesSimpleCommitsWithGenerationMinusOne() {
        assertEquals(Errors.NONE, commit(new Member("standalone", "", null, -1), ORDERS_0, 42));

        assertEquals(42, coordinator.committed(key("standalone"), null).get(ORDERS_0).offset());
        assertEquals(List.of(new GroupCoordinator.GroupOverview("standalone", "", GroupState.EMPTY)), coordinator.list(TENANT));
    }

    @Test
    void aGroupIdTooLongToStoreIsAnInvalidGroupId() {
        String huge = "g".repeat(Short.MAX_VALUE + 1);

        assertEquals(Errors.INVALID_GROUP_ID, commit(new Member(huge, "", null, -1), ORDERS_0, 1));
        assertFalse(offsets.hasOffsets(key(huge)));
    }

    @Test
    void aCommitWithAGenerationForAGroupThatDoesNotExistIsAnIllegalGeneration() {
        assertEquals(Errors.ILLEGAL_GENERATION, commit(new Member("ghost", "m-1", null, 3), ORDERS_0, 42));

        assertEquals(Map.of(), coordinator.committed(key("ghost"), null));
        assertEquals(List.of(), coordinator.list(TENANT));
    }

    @Test
    void aSimpleCommitToAGroupWithMembersIsRefused() {
        stableAlone("g", null);

        assertEquals(Errors.UNKNOWN_MEMBER_ID, commit(new Member("g", "", null, -1), ORDERS_0, 42));
    }

    @Test
    void commitsWaitForTheAssignmentWhileTheGroupCompletesItsRebalance() {
        JoinResult joined = done(coordinator.join(join("g", "", "range")));
        Member m = new Member("g", joined.memberId(), null, joined.generationId());

        assertEquals(GroupState.COMPLETING_REBALANCE, state("g"));
        assertEquals(Errors.REBALANCE_IN_PROGRESS, commit(m, ORDERS_0, 9));
        assertEquals(Map.of(), coordinator.committed(key("g"), null));
    }

    @Test
    void commitsOfTheCurrentGenerationAreAcceptedWhileARebalanceIsBeingPrepared() {
        Member a = stableAlone("g", null);
        coordinator.join(join("g", "", "range"));
        assertEquals(GroupState.PREPARING_REBALANCE, state("g"));

        assertEquals(Errors.NONE, commit(a, ORDERS_0, 11), "revoking partitions commits before rejoining");

        assertEquals(11, coordinator.committed(key("g"), List.of(ORDERS_0, ORDERS_1)).get(ORDERS_0).offset());
        assertEquals(Map.of(), coordinator.committed(key("g"), List.of(ORDERS_1)));
    }

    // ---------------------------------------------------------------- transactional offset commits

    private static final long PRODUCER = 1000;

    @Test
    void transactionalOffsetsAreCommittedWithTheirTransactionAndDroppedWithItsAbort() {
        assertEquals(Errors.NONE, commitTransactional(new Member("g", "", null, -1), ORDERS_0, 7));
        assertEquals(Map.of(), coordinator.committed(key("g"), null), "invisible until the transaction commits");
        assertTrue(coordinator.hasPendingTransactionalOffset(key("g"), ORDERS_0));
        assertFalse(coordinator.hasPendingTransactionalOffset(key("g"), ORDERS_1));

        done(coordinator.completeTransaction(key("g"), PRODUCER, true));

        assertEquals(7, coordinator.committed(key("g"), null).get(ORDERS_0).offset());
        assertFalse(coordinator.hasPendingTransactionalOffset(key("g"), ORDERS_0));

        assertEquals(Errors.NONE, commitTransactional(new Member("g", "", null, -1), ORDERS_0, 9));
        done(coordinator.completeTransaction(key("g"), PRODUCER, false));

        assertEquals(7, coordinator.committed(key("g"), null).get(ORDERS_0).offset());
        assertFalse(coordinator.hasPendingTransactionalOffset(key("g"), ORDERS_0));
    }

    @Test
    void theProducerIsCheckedFirstAndItsRefusalWritesNothing() {
        Member a = stableAlone("g", null);

        assertEquals(Errors.PRODUCER_FENCED, done(coordinator.commitTransactional(key("g"), PRODUCER, 99, "nobody",
                null, () -> Errors.PRODUCER_FENCED, Map.of(ORDERS_0, offset(1)))));
        assertEquals(Errors.INVALID_TXN_STATE, done(coordinator.commitTransactional(key("ghost"), PRODUCER, 3,
                "m-1", null, () -> Errors.INVALID_TXN_STATE, Map.of(ORDERS_0, offset(1)))));

        assertFalse(offsets.hasPending(key("g")));
        assertEquals(Errors.NONE, commitTransactional(a, ORDERS_0, 1));
    }

    @Test
    void aTransactionalCommitNamingAMemberIsCheckedAgainstTheGroupAsKafkaDoes() {
        Member a = stableAlone("g", "instance-a");

        assertEquals(Errors.ILLEGAL_GENERATION, commitTransactional(new Member("g", a.id(), "instance-a",
                a.generation() + 1), ORDERS_0, 1));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, commitTransactional(new Member("g", "someone-else", null,
                a.generation()), ORDERS_0, 1));
        assertEquals(Errors.FENCED_INSTANCE_ID, commitTransactional(new Member("g", "old-instance", "instance-a",
                a.generation()), ORDERS_0, 1));
        assertEquals(Errors.ILLEGAL_GENERATION, commitTransactional(new Member("ghost", "m-1", null, 3), ORDERS_0,
                1));
        assertFalse(offsets.hasPending(key("g")));

        assertEquals(Errors.NONE, commitTransactional(a, ORDERS_0, 1));
        assertEquals(Errors.NONE, commitTransactional(new Member("g", "", null, -1), ORDERS_1, 1),
                "versions before 3 name no member; unlike a plain commit, that is accepted in a group with members");
    }

    @Test
    void aTransactionalCommitIsAcceptedWhileTheGroupCompletesItsRebalance() {
        JoinResult joined = done(coordinator.join(join("g", "", "range")));
        assertEquals(GroupState.COMPLETING_REBALANCE, state("g"));

        assertEquals(Errors.NONE, commitTransactional(new Member("g", joined.memberId(), null,
                joined.generationId()), ORDERS_0, 9));
    }

    @Test
    void offsetsWithATransactionPendingDoNotExpireNorDoesTheirGroup() {
        commit(new Member("g", "", null, -1), ORDERS_0, 5);
        commit(new Member("g", "", null, -1), ORDERS_1, 6);
        commitTransactional(new Member("g", "", null, -1), ORDERS_0, 7);

        timer.advance(RETENTION);
        coordinator.expireOffsets();

        assertEquals(Map.of(ORDERS_0, 5L), committedOffsets("g"), "orders-1 expired; orders-0 waits for the txn");
        done(coordinator.completeTransaction(key("g"), PRODUCER, false));
        coordinator.expireOffsets();
        assertEquals(Map.of(), committedOffsets("g"));
        assertEquals(List.of(), coordinator.list(TENANT));
    }

    @Test
    void aGroupWithOnlyPendingOffsetsIsNotForgottenUntilItsTransactionEnds() {
        commitTransactional(new Member("g", "", null, -1), ORDERS_0, 7);

        timer.advance(RETENTION.multipliedBy(2));
        coordinator.expireOffsets();
        assertEquals(List.of("g"), coordinator.list(TENANT).stream().map(GroupCoordinator.GroupOverview::groupId)
                .toList());

        done(coordinator.completeTransaction(key("g"), PRODUCER, true));
        assertEquals(Map.of(ORDERS_0, 7L), committedOffsets("g"));
    }

    @Test
    void deletingAnEmptyGroupDropsItsPendingOffsetsAsKafkaDoes() {
        commitTransactional(new Member("g", "", null, -1), ORDERS_0, 7);

        assertEquals(Errors.NONE, done(coordinator.delete(key("g"))));

        assertFalse(offsets.hasPending(key("g")));
        done(coordinator.completeTransaction(key("g"), PRODUCER, true));
        assertEquals(Map.of(), committedOffsets("g"), "the completion finds nothing left to commit");
    }

    @Test
    void pendingOffsetsAndTheirGroupAreKnownAfterARestart() throws IOException {
        commitTransactional(new Member("g", "", null, -1), ORDERS_0, 7);
        coordinator.shutdown();
        logs.close();

        logs = TestLogs.open(dir.resolve("log"), timer.clock());
        offsets = OffsetStore.open(logs.internalLog("consumer-offsets", Map.of()), dir.resolve("offsets.snapshot"),
                TestLogs.sealedFiles(dir), timer.clock());
        coordinator = coordinator(Duration.ZERO, Integer.MAX_VALUE);

        assertTrue(coordinator.hasPendingTransactionalOffset(key("g"), ORDERS_0));
        assertEquals(List.of("g"), coordinator.list(TENANT).stream().map(GroupCoordinator.GroupOverview::groupId)
                .toList());
        done(coordinator.completeTransaction(key("g"), PRODUCER, true));
        assertEquals(Map.of(ORDERS_0, 7L), committedOffsets("g"));
    }

    // ---------------------------------------------------------------- deleting groups, expiring offsets

    @Test
    void onlyAnEmptyGroupCanBeDeletedAndItsOffsetsGoWithIt() {
        Member a = stableAlone("busy", null);
        commit(a, ORDERS_0, 1);
        commit(new Member("idle", "", null, -1), ORDERS_0, 2);

        assertEquals(Errors.NON_EMPTY_GROUP, done(coordinator.delete(key("busy"))));
        assertEquals(Errors.GROUP_ID_NOT_FOUND, done(coordinator.delete(key("never-existed"))));
        assertEquals(Errors.NONE, done(coordinator.delete(key("idle"))));

        assertEquals(Map.of(), coordinator.committed(key("idle"), null));
        assertFalse(offsets.hasOffsets(key("idle")));
        assertEquals(Errors.GROUP_ID_NOT_FOUND, done(coordinator.delete(key("idle"))));
        assertEquals(List.of("busy"), coordinator.list(TENANT).stream().map(GroupCoordinator.GroupOverview::groupId).toList());
    }

    @Test
    void removingATenantDropsItsGroupsMembersAndOffsetsDurablyAndNoOthers() throws IOException {
        Member busy = stableAlone("busy", null);
        commit(busy, ORDERS_0, 1);
        commitTransactional(new Member("pending", "", null, -1), ORDERS_0, 2);
        GroupKey elsewhere = new GroupKey("another-tenant", "busy");
        done(offsets.commit(elsewhere, Map.of(ORDERS_0, offset(3))));

        assertEquals(2, done(coordinator.removeTenant(TENANT)));

        assertEquals(List.of(), coordinator.list(TENANT));
        assertEquals(Errors.UNKNOWN_MEMBER_ID, coordinator.heartbeat(key("busy"), busy.generation(), busy.id(), null));
        assertFalse(offsets.hasOffsets(key("busy")));
        assertFalse(offsets.hasPending(key("pending")));
        assertEquals(3, offsets.offset(elsewhere, ORDERS_0).orElseThrow().offset());
        assertEquals(0, done(coordinator.removeTenant(TENANT)));

        coordinator.shutdown();
        logs.close();
        logs = TestLogs.open(dir.resolve("log"), timer.clock());
        offsets = OffsetStore.open(logs.internalLog("consumer-offsets", Map.of()), dir.resolve("offsets.snapshot"),
                TestLogs.sealedFiles(dir), timer.clock());
        assertEquals(Set.of(elsewhere), offsets.groups(), "the removal is durable");
    }

    @Test
    void theOffsetsOfAGroupThatStaysEmptyExpireOnceTheRetentionHasPassed() {
        Member a = stableAlone("g", null);
        commit(a, ORDERS_0, 5);
        coordinator.leave(key("g"), List.of(new MemberIdentity(a.id(), null)));
        assertEquals(GroupState.EMPTY, state("g"));

        timer.advance(RETENTION.minusMillis(1));
        coordinator.expireOffsets();
        assertEquals(5, coordinator.committed(key("g"), null).get(ORDERS_0).offset());

        timer.advance(Duration.ofMillis(1));
        coordinator.expireOffsets();

        assertEquals(Map.of(), coordinator.committed(key("g"), null));
        assertEquals(List.of(), coordinator.list(TENANT));
    }

    @Test
    void theOffsetsOfAGroupWithMembersNeverExpire() {
        int longestSessionMs = 1_800_000;
        JoinResult joined = done(coordinator.join(new JoinRequest(key("g"), "", null, "client", "/127.0.0.1",
                longestSessionMs, REBALANCE_MS, "consumer", protocols("range"), false, true)));
        done(coordinator.sync(key("g"), 1, joined.memberId(), null, "consumer", "range", Map.of()));
        Member a = new Member("g", joined.memberId(), null, 1);
        commit(a, ORDERS_0, 5);

        for (Duration alive = Duration.ZERO; alive.compareTo(RETENTION.multipliedBy(2)) < 0;
             alive = alive.plusMillis(longestSessionMs - 1)) {
            timer.advance(Duration.ofMillis(longestSessionMs - 1));
            assertEquals(Errors.NONE, heartbeat(a));
            coordinator.expireOffsets();
        }

        assertEquals(5, coordinator.committed(key("g"), null).get(ORDERS_0).offset());
    }

    @Test
    void aStandaloneConsumerKeepsTheOffsetsItKeepsCommitting() {
        Member standalone = new Member("standalone", "", null, -1);
        commit(standalone, ORDERS_0, 1);
        commit(standalone, ORDERS_1, 1);

        for (int day = 1; day <= 10; day++) {
            timer.advance(Duration.ofDays(1));
            commit(standalone, ORDERS_0, day);
            coordinator.expireOffsets();

            Map<TopicPartition, CommittedOffset> committed = coordinator.committed(key("standalone"), null);
            assertTrue(committed.containsKey(ORDERS_0), "day " + day + ": orders-0 was committed just now");
            assertEquals(day, committed.get(ORDERS_0).offset());
            assertEquals(day < RETENTION.toDays(), committed.containsKey(ORDERS_1),
                    "day " + day + ": orders-1 was last committed on day 0 and expires on day 7");
        }
    }

    @Test
    void groupsWithCommittedOffsetsAreKnownAfterARestart() throws IOException {
        Member a = stableAlone("g", null);
        commit(a, ORDERS_0, 5);
        coordinator.shutdown();
        logs.close();

        logs = TestLogs.open(dir.resolve("log"), timer.clock());
        offsets = OffsetStore.open(logs.internalLog("consumer-offsets", Map.of()), dir.resolve("offsets.snapshot"),
                TestLogs.sealedFiles(dir), timer.clock());
        coordinator = coordinator(Duration.ZERO, Integer.MAX_VALUE);

        assertEquals(List.of(new GroupCoordinator.GroupOverview("g", "", GroupState.EMPTY)), coordinator.list(TENANT));
        assertEquals(5, coordinator.committed(key("g"), null).get(ORDERS_0).offset());
        assertEquals(Errors.UNKNOWN_MEMBER_ID, heartbeat(a), "members do not survive a restart; they rejoin");
        assertEquals(Errors.NONE, done(coordinator.join(join("g", "", "range"))).error());
    }

    // ---------------------------------------------------------------- helpers

    /** One member alone in a stable group, as after JoinGroup and SyncGroup. */
    private Member stableAlone(String group, String instanceId) {
        JoinResult joined = done(coordinator.join(instanceId == null ? join(group, "", "range")
                : joinStatic(group, "", instanceId, "range")));
        assertEquals(Errors.NONE, joined.error());
        SyncResult synced = done(coordinator.sync(key(group), joined.generationId(), joined.memberId(), instanceId,
                "consumer", "range", Map.of(joined.memberId(), bytes("all"))));
        assertEquals(Errors.NONE, synced.error());
        assertEquals(GroupState.STABLE, state(group));
        return new Member(group, joined.memberId(), instanceId, joined.generationId());
    }

    /** The leader and a follower of a stable group, at its current generation. */
    private record Pair(Member leader, Member follower) {
    }

    /** A second dynamic member joins the leader's group; both rejoin and sync: the next generation is stable. */
    private Pair joinSecondAndStabilize(Member leader) {
        String group = leader.group();
        CompletableFuture<JoinResult> bJoin = coordinator.join(join(group, "", "range"));
        JoinResult aJoined = done(coordinator.join(leader.instanceId() == null ? join(group, leader.id(), "range")
                : joinStatic(group, leader.id(), leader.instanceId(), "range")));
        JoinResult bJoined = done(bJoin);
        CompletableFuture<SyncResult> bSync = coordinator.sync(key(group), bJoined.generationId(), bJoined.memberId(), null,
                "consumer", "range", Map.of());
        done(coordinator.sync(key(group), aJoined.generationId(), leader.id(), leader.instanceId(), "consumer", "range",
                Map.of(leader.id(), bytes("orders-0"), bJoined.memberId(), bytes("orders-1"))));
        assertEquals(Errors.NONE, done(bSync).error());
        return new Pair(new Member(group, leader.id(), leader.instanceId(), aJoined.generationId()),
                new Member(group, bJoined.memberId(), null, bJoined.generationId()));
    }

    /** JoinGroup v3 and older: no MEMBER_ID_REQUIRED round trip. */
    private static JoinRequest join(String group, String memberId, String... assignors) {
        return new JoinRequest(key(group), memberId, null, "client", "/127.0.0.1", SESSION_MS, REBALANCE_MS, "consumer",
                protocols(assignors), false, true);
    }

    /** JoinGroup v4+ for a dynamic member: an unknown member must first ask for its id (KIP-394). */
    private static JoinRequest joinV4(String group, String memberId, String... assignors) {
        return new JoinRequest(key(group), memberId, null, "client", "/127.0.0.1", SESSION_MS, REBALANCE_MS, "consumer",
                protocols(assignors), true, true);
    }

    private static JoinRequest joinStatic(String group, String memberId, String instanceId, String... assignors) {
        return new JoinRequest(key(group), memberId, instanceId, "client", "/127.0.0.1", SESSION_MS, REBALANCE_MS,
                "consumer", protocols(assignors), true, true);
    }

    private static LinkedHashMap<String, byte[]> protocols(String... assignors) {
        LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
        for (String name : assignors) {
            protocols.put(name, bytes(name + "-metadata"));
        }
        return protocols;
    }

    private Errors heartbeat(Member m) {
        return coordinator.heartbeat(key(m.group()), m.generation(), m.id(), m.instanceId());
    }

    private Errors commit(Member m, TopicPartition tp, long offset) {
        Map<TopicPartition, CommittedOffset> commits = new HashMap<>();
        commits.put(tp, new CommittedOffset(offset, 0, "", timer.nowMs()));
        return done(coordinator.commit(key(m.group()), m.generation(), m.id(), m.instanceId(), commits));
    }

    /** A transactional commit of {@link #PRODUCER}, whose transaction the (stand-in) coordinator says holds it. */
    private Errors commitTransactional(Member m, TopicPartition tp, long offset) {
        return done(coordinator.commitTransactional(key(m.group()), PRODUCER, m.generation(), m.id(), m.instanceId(),
                () -> Errors.NONE, Map.of(tp, offset(offset))));
    }

    private CommittedOffset offset(long offset) {
        return new CommittedOffset(offset, -1, "", timer.nowMs());
    }

    private Map<TopicPartition, Long> committedOffsets(String group) {
        Map<TopicPartition, Long> found = new HashMap<>();
        coordinator.committed(key(group), null).forEach((tp, o) -> found.put(tp, o.offset()));
        return found;
    }

    private GroupState state(String group) {
        return coordinator.describe(key(group)).orElseThrow().state();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The answer a request already has: nothing here waits on anything but the test's own calls and clock. */
    private static <T> T done(CompletableFuture<T> future) {
        assertTrue(future.isDone(), "expected an answer by now");
        return future.join();
    }
}
