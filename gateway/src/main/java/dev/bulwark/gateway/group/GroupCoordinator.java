package dev.bulwark.gateway.group;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The group coordinator for classic consumer groups: Kafka's rebalance protocol (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup) with client-side assignors, static membership, session and rebalance timeouts, and committed offsets
 * (kept by the {@link OffsetStore}).
 *
 * <p>Threads: each group's state is changed under that group's monitor, by request threads and by this coordinator's
 * timer thread (session expiry, join deadlines). A JoinGroup or SyncGroup that must wait for other members returns a
 * future, completed when the rebalance reaches the point it waits for.
 */
public final class GroupCoordinator {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinator.class);
    private static final String UNKNOWN_MEMBER_ID = "";
    private static final String CONSUMER_PROTOCOL = "consumer";

    private final GroupSettings settings;
    private final OffsetStore offsets;
    private final ScheduledExecutorService timer;
    private final Clock clock;
    private final Map<GroupKey, ClassicGroup> groups = new ConcurrentHashMap<>();

    public GroupCoordinator(GroupSettings settings, OffsetStore offsets, ScheduledExecutorService timer, Clock clock) {
        this.settings = settings;
        this.offsets = offsets;
        this.timer = timer;
        this.clock = clock;
        for (GroupKey group : offsets.groups()) {
            long lastCommit = offsets.offsets(group).values().stream().mapToLong(CommittedOffset::commitTimestamp)
                    .max().orElse(clock.millis());
            groups.put(group, new ClassicGroup(group, lastCommit));
        }
    }

    /** What a JoinGroup asks. */
    public record JoinRequest(GroupKey group, String memberId, String groupInstanceId, String clientId,
                              String clientHost, int sessionTimeoutMs, int rebalanceTimeoutMs, String protocolType,
                              LinkedHashMap<String, byte[]> protocols, boolean requireKnownMemberId,
                              boolean supportsSkipAssignment) {
    }

    /** A member named in a LeaveGroup. */
    public record MemberIdentity(String memberId, String groupInstanceId) {
    }

    /** A group as ListGroups reports it. */
    public record GroupOverview(String groupId, String protocolType, GroupState state) {
    }

    /** A group as DescribeGroups reports it. */
    public record GroupDescription(String groupId, GroupState state, String protocolType, String protocolName,
                                   List<MemberDescription> members) {
    }

    public record MemberDescription(String memberId, String groupInstanceId, String clientId, String clientHost,
                                    byte[] metadata, byte[] assignment) {
    }

    // ---------------------------------------------------------------- membership

    public CompletableFuture<JoinResult> join(JoinRequest r) {
        if (r.group().groupId() == null || r.group().groupId().isEmpty()) {
            return done(JoinResult.error(Errors.INVALID_GROUP_ID, r.memberId()));
        }
        if (r.sessionTimeoutMs() < settings.minSessionTimeout().toMillis()
                || r.sessionTimeoutMs() > settings.maxSessionTimeout().toMillis()) {
            return done(JoinResult.error(Errors.INVALID_SESSION_TIMEOUT, r.memberId()));
        }
        boolean newMember = UNKNOWN_MEMBER_ID.equals(r.memberId());
        ClassicGroup group = newMember ? groups.computeIfAbsent(r.group(), id -> new ClassicGroup(id, clock.millis()))
                : groups.get(r.group());
        if (group == null) {
            return done(JoinResult.error(Errors.UNKNOWN_MEMBER_ID, r.memberId()));
        }
        synchronized (group) {
            if (group.state == GroupState.DEAD) {
                return done(JoinResult.error(Errors.COORDINATOR_NOT_AVAILABLE, r.memberId()));
            }
            if (!group.supports(r.protocolType(), r.protocols().keySet())) {
                return done(JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, r.memberId()));
            }
            return newMember ? joinNewMember(group, r) : joinKnownMember(group, r);
        }
    }

    private CompletableFuture<JoinResult> joinNewMember(ClassicGroup group, JoinRequest r) {
        if (r.groupInstanceId() != null) {
            String previous = group.staticMembers.get(r.groupInstanceId());
            String memberId = r.groupInstanceId() + "-" + UUID.randomUUID();
            if (previous != null) {
                return replaceStaticMember(group, previous, memberId, r);
            }
            if (full(group)) {
                return done(JoinResult.error(Errors.GROUP_MAX_SIZE_REACHED, UNKNOWN_MEMBER_ID));
            }
            return addMemberAndRebalance(group, memberId, r);
        }
        if (full(group)) {
            return done(JoinResult.error(Errors.GROUP_MAX_SIZE_REACHED, UNKNOWN_MEMBER_ID));
        }
        String memberId = (r.clientId() == null ? "" : r.clientId()) + "-" + UUID.randomUUID();
        if (r.requireKnownMemberId()) {
            // KIP-394: the member must come back with this id, so a client that lost the response leaves no ghost.
            group.pendingMembers.add(memberId);
            timer.schedule(() -> expirePending(group, memberId), r.sessionTimeoutMs(), TimeUnit.MILLISECONDS);
            return done(JoinResult.error(Errors.MEMBER_ID_REQUIRED, memberId));
        }
        return addMemberAndRebalance(group, memberId, r);
    }

    private boolean full(ClassicGroup group) {
        return group.members.size() + group.pendingMembers.size() >= settings.maxSize();
    }

    private CompletableFuture<JoinResult> joinKnownMember(ClassicGroup group, JoinRequest r) {
        String memberId = r.memberId();
        if (group.pendingMembers.remove(memberId)) {
            return addMemberAndRebalance(group, memberId, r);
        }
        Errors invalid = checkMember(group, memberId, r.groupInstanceId());
        if (invalid != Errors.NONE) {
            return done(JoinResult.error(invalid, memberId));
        }
        GroupMember member = group.members.get(memberId);
        member.sessionTimeoutMs = r.sessionTimeoutMs();
        member.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        switch (group.state) {
            case PREPARING_REBALANCE -> {
                return awaitJoin(group, member, r.protocols());
            }
            case COMPLETING_REBALANCE -> {
                if (member.sameProtocols(r.protocols())) {
                    // The member lost the JoinGroup response: hand it the current generation again.
                    return done(currentGeneration(group, member, false));
                }
                CompletableFuture<JoinResult> result = awaitJoin(group, member, r.protocols());
                prepareRebalance(group, "member " + memberId + " rejoined with new metadata");
                return result;
            }
            case STABLE -> {
                if (memberId.equals(group.leaderId) || !member.sameProtocols(r.protocols())) {
                    CompletableFuture<JoinResult> result = awaitJoin(group, member, r.protocols());
                    prepareRebalance(group, memberId.equals(group.leaderId) ? "the leader rejoined"
                            : "member " + memberId + " changed its subscription");
                    return result;
                }
                return done(currentGeneration(group, member, false));
            }
            default -> {
                return done(JoinResult.error(Errors.UNKNOWN_MEMBER_ID, memberId));
            }
        }
    }

    private CompletableFuture<JoinResult> awaitJoin(ClassicGroup group, GroupMember member,
                                                    LinkedHashMap<String, byte[]> protocols) {
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(JoinResult.error(Errors.REBALANCE_IN_PROGRESS, member.memberId));
        }
        member.protocols = protocols;
        member.awaitingJoin = new CompletableFuture<>();
        cancelSessionExpiry(member);
        CompletableFuture<JoinResult> result = member.awaitingJoin;
        tryCompleteJoin(group);
        return result;
    }

    private CompletableFuture<JoinResult> addMemberAndRebalance(ClassicGroup group, String memberId, JoinRequest r) {
        GroupMember member = new GroupMember(memberId, r.groupInstanceId(), r.clientId(), r.clientHost(),
                r.sessionTimeoutMs(), r.rebalanceTimeoutMs(), r.protocols());
        member.awaitingJoin = new CompletableFuture<>();
        CompletableFuture<JoinResult> result = member.awaitingJoin;
        if (group.members.isEmpty()) {
            group.protocolType = r.protocolType();
        }
        group.members.put(memberId, member);
        if (member.isStatic()) {
            group.staticMembers.put(member.groupInstanceId, memberId);
        }
        if (group.leaderId == null) {
            group.leaderId = memberId;
        }
        if (group.state == GroupState.PREPARING_REBALANCE) {
            extendInitialDelay(group);
            tryCompleteJoin(group);
        } else {
            prepareRebalance(group, "member " + memberId + " joined");
        }
        return result;
    }

    /** A static member came back under a new member id: it takes over its old place (KIP-345). */
    private CompletableFuture<JoinResult> replaceStaticMember(ClassicGroup group, String oldMemberId,
                                                              String newMemberId, JoinRequest r) {
        GroupMember old = group.members.remove(oldMemberId);
        cancelSessionExpiry(old);
        fail(old, Errors.FENCED_INSTANCE_ID);
        GroupMember member = new GroupMember(newMemberId, r.groupInstanceId(), r.clientId(), r.clientHost(),
                r.sessionTimeoutMs(), r.rebalanceTimeoutMs(), r.protocols());
        member.assignment = old.assignment;
        group.members.put(newMemberId, member);
        group.staticMembers.put(r.groupInstanceId(), newMemberId);
        if (oldMemberId.equals(group.leaderId)) {
            group.leaderId = newMemberId;
        }
        LOG.info("group {}: static member {} rejoined as {}", group.groupId, r.groupInstanceId(), newMemberId);
        // As in Kafka, a rejoin that would not change the chosen assignor keeps the generation: the static member's
        // subscription bytes differ after a restart (owned partitions, generation) without changing its share.
        if (group.state == GroupState.STABLE && group.protocolName != null
                && group.protocolName.equals(group.selectProtocol())) {
            scheduleSessionExpiry(group, member);
            boolean leader = newMemberId.equals(group.leaderId);
            return done(currentGeneration(group, member, leader && r.supportsSkipAssignment()));
        }
        member.awaitingJoin = new CompletableFuture<>();
        CompletableFuture<JoinResult> result = member.awaitingJoin;
        if (group.state == GroupState.PREPARING_REBALANCE) {
            tryCompleteJoin(group);
        } else {
            prepareRebalance(group, "static member " + r.groupInstanceId() + " rejoined with new metadata");
        }
        return result;
    }

    private JoinResult currentGeneration(ClassicGroup group, GroupMember member, boolean skipAssignment) {
        boolean leader = member.memberId.equals(group.leaderId);
        return new JoinResult(Errors.NONE, member.memberId, group.generationId, group.protocolType,
                group.protocolName, group.leaderId, skipAssignment, leader ? memberList(group) : List.of());
    }

    private List<JoinResult.JoinedMember> memberList(ClassicGroup group) {
        List<JoinResult.JoinedMember> members = new ArrayList<>(group.members.size());
        for (GroupMember m : group.members.values()) {
            members.add(new JoinResult.JoinedMember(m.memberId, m.groupInstanceId,
                    m.protocols.getOrDefault(group.protocolName, new byte[0])));
        }
        return members;
    }

    private void prepareRebalance(ClassicGroup group, String reason) {
        if (group.state == GroupState.COMPLETING_REBALANCE) {
            for (GroupMember member : group.members.values()) {
                if (member.awaitingSync != null) {
                    member.awaitingSync.complete(SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
                    member.awaitingSync = null;
                }
            }
        }
        boolean initial = group.state == GroupState.EMPTY;
        group.transition(GroupState.PREPARING_REBALANCE, clock.millis());
        LOG.info("group {}: preparing to rebalance generation {} ({})", group.groupId, group.generationId, reason);
        long delay = settings.initialRebalanceDelay().toMillis();
        if (initial && delay > 0) {
            group.initialDelayStartedMs = clock.millis();
            scheduleJoinDeadline(group, Math.min(delay, group.rebalanceTimeoutMs()));
        } else {
            group.initialDelayStartedMs = -1;
            scheduleJoinDeadline(group, group.rebalanceTimeoutMs());
            tryCompleteJoin(group);
        }
    }

    /** Each member that joins a new group during its initial delay extends it, up to the rebalance timeout. */
    private void extendInitialDelay(ClassicGroup group) {
        if (group.initialDelayStartedMs < 0) {
            return;
        }
        long elapsed = clock.millis() - group.initialDelayStartedMs;
        long remaining = group.rebalanceTimeoutMs() - elapsed;
        if (remaining > 0) {
            scheduleJoinDeadline(group, Math.min(settings.initialRebalanceDelay().toMillis(), remaining));
        }
    }

    private void scheduleJoinDeadline(ClassicGroup group, long delayMs) {
        if (group.joinDeadline != null) {
            group.joinDeadline.cancel(false);
        }
        int generation = group.generationId;
        group.joinDeadline = timer.schedule(() -> {
            synchronized (group) {
                if (group.state == GroupState.PREPARING_REBALANCE && group.generationId == generation) {
                    group.initialDelayStartedMs = -1;
                    completeJoin(group);
                }
            }
        }, delayMs, TimeUnit.MILLISECONDS);
    }

    private void tryCompleteJoin(ClassicGroup group) {
        if (group.state == GroupState.PREPARING_REBALANCE && group.initialDelayStartedMs < 0
                && group.allMembersJoined()) {
            completeJoin(group);
        }
    }

    /** Ends the join phase: drops members that did not rejoin, starts the next generation, answers the joiners. */
    private void completeJoin(ClassicGroup group) {
        if (group.joinDeadline != null) {
            group.joinDeadline.cancel(false);
            group.joinDeadline = null;
        }
        for (Iterator<GroupMember> it = group.members.values().iterator(); it.hasNext(); ) {
            GroupMember member = it.next();
            if (member.awaitingJoin == null && !member.isStatic()) {
                LOG.info("group {}: member {} did not rejoin in time and is removed", group.groupId, member.memberId);
                it.remove();
                cancelSessionExpiry(member);
                fail(member, Errors.UNKNOWN_MEMBER_ID);
            }
        }
        group.pendingMembers.clear();
        group.generationId++;
        if (group.members.isEmpty()) {
            group.protocolName = null;
            group.leaderId = null;
            group.transition(GroupState.EMPTY, clock.millis());
            LOG.info("group {} is empty at generation {}", group.groupId, group.generationId);
            return;
        }
        group.protocolName = group.selectProtocol();
        if (group.leaderId == null || !group.members.containsKey(group.leaderId)
                || group.members.get(group.leaderId).awaitingJoin == null) {
            group.leaderId = group.members.values().stream().filter(m -> m.awaitingJoin != null)
                    .map(m -> m.memberId).findFirst().orElse(group.members.keySet().iterator().next());
        }
        group.transition(GroupState.COMPLETING_REBALANCE, clock.millis());
        LOG.info("group {}: generation {} with {} member(s), assignor {}, leader {}", group.groupId,
                group.generationId, group.members.size(), group.protocolName, group.leaderId);
        List<JoinResult.JoinedMember> all = memberList(group);
        for (GroupMember member : group.members.values()) {
            if (member.awaitingJoin != null) {
                boolean leader = member.memberId.equals(group.leaderId);
                CompletableFuture<JoinResult> waiting = member.awaitingJoin;
                member.awaitingJoin = null;
                scheduleSessionExpiry(group, member);
                waiting.complete(new JoinResult(Errors.NONE, member.memberId, group.generationId, group.protocolType,
                        group.protocolName, group.leaderId, false, leader ? all : List.of()));
            }
        }
    }

    public CompletableFuture<SyncResult> sync(GroupKey groupId, int generationId, String memberId, String instanceId,
                                              String protocolType, String protocolName, Map<String, byte[]> assignments) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return done(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
        }
        synchronized (group) {
            Errors invalid = validateMember(group, memberId, instanceId, generationId);
            if (invalid != Errors.NONE) {
                return done(SyncResult.error(invalid));
            }
            if ((protocolType != null && !protocolType.equals(group.protocolType))
                    || (protocolName != null && !protocolName.equals(group.protocolName))) {
                return done(SyncResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL));
            }
            GroupMember member = group.members.get(memberId);
            scheduleSessionExpiry(group, member);
            switch (group.state) {
                case PREPARING_REBALANCE -> {
                    return done(SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
                }
                case COMPLETING_REBALANCE -> {
                    member.awaitingSync = new CompletableFuture<>();
                    CompletableFuture<SyncResult> result = member.awaitingSync;
                    if (memberId.equals(group.leaderId)) {
                        for (GroupMember m : group.members.values()) {
                            m.assignment = assignments.getOrDefault(m.memberId, new byte[0]);
                        }
                        group.transition(GroupState.STABLE, clock.millis());
                        LOG.info("group {}: generation {} is stable", group.groupId, group.generationId);
                        for (GroupMember m : group.members.values()) {
                            if (m.awaitingSync != null) {
                                m.awaitingSync.complete(assignmentOf(group, m));
                                m.awaitingSync = null;
                            }
                        }
                    }
                    return result;
                }
                case STABLE -> {
                    return done(assignmentOf(group, member));
                }
                default -> {
                    return done(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
                }
            }
        }
    }

    private static SyncResult assignmentOf(ClassicGroup group, GroupMember member) {
        return new SyncResult(Errors.NONE, group.protocolType, group.protocolName, member.assignment);
    }

    public Errors heartbeat(GroupKey groupId, int generationId, String memberId, String instanceId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        synchronized (group) {
            Errors invalid = validateMember(group, memberId, instanceId, generationId);
            if (invalid != Errors.NONE) {
                return invalid;
            }
            scheduleSessionExpiry(group, group.members.get(memberId));
            return group.state == GroupState.PREPARING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
        }
    }

    private Errors validateMember(ClassicGroup group, String memberId, String instanceId, int generationId) {
        if (group.state == GroupState.DEAD) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        Errors invalid = checkMember(group, memberId, instanceId);
        if (invalid != Errors.NONE) {
            return invalid;
        }
        if (generationId != group.generationId) {
            return Errors.ILLEGAL_GENERATION;
        }
        return group.state == GroupState.EMPTY ? Errors.UNKNOWN_MEMBER_ID : Errors.NONE;
    }

    /**
     * Kafka's member check, in Kafka's order: a request naming a group.instance.id must come from the member id that
     * holds it now (an older instance of a static member that was replaced is fenced, and told so rather than
     * "unknown": a fenced client stops, an unknown one would rejoin and fence the new instance in turn); an instance id
     * nobody holds is unknown; and the member must be in the group.
     */
    private static Errors checkMember(ClassicGroup group, String memberId, String instanceId) {
        if (instanceId != null) {
            String holder = group.staticMembers.get(instanceId);
            if (holder == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            if (!holder.equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        }
        return group.members.containsKey(memberId) ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
    }

    /**
     * Removes members (LeaveGroup): by member id, or by group.instance.id for static members.
     *
     * @return each member's outcome, in request order; an unknown group fails every member
     */
    public List<Errors> leave(GroupKey groupId, List<MemberIdentity> leaving) {
        ClassicGroup group = groups.get(groupId);
        List<Errors> results = new ArrayList<>(leaving.size());
        if (group == null) {
            leaving.forEach(m -> results.add(Errors.UNKNOWN_MEMBER_ID));
            return results;
        }
        synchronized (group) {
            for (MemberIdentity identity : leaving) {
                results.add(leave(group, identity));
            }
        }
        return results;
    }

    private Errors leave(ClassicGroup group, MemberIdentity identity) {
        if (group.state == GroupState.DEAD) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        String memberId = identity.memberId();
        if (identity.groupInstanceId() != null) {
            String holder = group.staticMembers.get(identity.groupInstanceId());
            if (holder == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            if (!UNKNOWN_MEMBER_ID.equals(memberId) && !memberId.equals(holder)) {
                return Errors.FENCED_INSTANCE_ID;
            }
            memberId = holder;
        } else if (group.pendingMembers.remove(memberId)) {
            tryCompleteJoin(group);
            return Errors.NONE;
        }
        GroupMember member = group.members.get(memberId);
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        removeMember(group, member, "member " + memberId + " left");
        return Errors.NONE;
    }

    private void removeMember(ClassicGroup group, GroupMember member, String reason) {
        group.members.remove(member.memberId);
        if (member.isStatic()) {
            group.staticMembers.remove(member.groupInstanceId, member.memberId);
        }
        cancelSessionExpiry(member);
        fail(member, Errors.UNKNOWN_MEMBER_ID);
        if (member.memberId.equals(group.leaderId)) {
            group.leaderId = null;
        }
        switch (group.state) {
            case STABLE, COMPLETING_REBALANCE -> prepareRebalance(group, reason);
            case PREPARING_REBALANCE -> {
                LOG.info("group {}: {}", group.groupId, reason);
                tryCompleteJoin(group);
            }
            default -> { }
        }
    }

    private static void fail(GroupMember member, Errors error) {
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(JoinResult.error(error, member.memberId));
            member.awaitingJoin = null;
        }
        if (member.awaitingSync != null) {
            member.awaitingSync.complete(SyncResult.error(error));
            member.awaitingSync = null;
        }
    }

    // ---------------------------------------------------------------- timers

    private void scheduleSessionExpiry(ClassicGroup group, GroupMember member) {
        cancelSessionExpiry(member);
        member.sessionExpiry = timer.schedule(() -> {
            synchronized (group) {
                if (group.members.get(member.memberId) == member && member.awaitingJoin == null) {
                    LOG.info("group {}: member {} missed its session timeout of {} ms", group.groupId,
                            member.memberId, member.sessionTimeoutMs);
                    removeMember(group, member, "member " + member.memberId + " expired");
                }
            }
        }, member.sessionTimeoutMs, TimeUnit.MILLISECONDS);
    }

    private static void cancelSessionExpiry(GroupMember member) {
        if (member.sessionExpiry != null) {
            member.sessionExpiry.cancel(false);
            member.sessionExpiry = null;
        }
    }

    private void expirePending(ClassicGroup group, String memberId) {
        synchronized (group) {
            if (group.pendingMembers.remove(memberId)) {
                LOG.info("group {}: member id {} was never used to join and expired", group.groupId, memberId);
                tryCompleteJoin(group);
            }
        }
    }

    // ---------------------------------------------------------------- offsets

    /**
     * Commits offsets for a group member (or, with generation -1, for a group that Kafka does not manage: a
     * standalone consumer or an admin tool). Completes once the commit is durable.
     */
    public CompletableFuture<Errors> commit(GroupKey groupId, int generationId, String memberId, String instanceId,
                                            Map<TopicPartition, CommittedOffset> commits) {
        if (groupId.groupId() == null || groupId.groupId().isEmpty()) {
            return done(Errors.INVALID_GROUP_ID);
        }
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            if (generationId >= 0) {
                return done(Errors.ILLEGAL_GENERATION);
            }
            group = groups.computeIfAbsent(groupId, id -> new ClassicGroup(id, clock.millis()));
        }
        synchronized (group) {
            if (group.state == GroupState.DEAD) {
                return done(Errors.COORDINATOR_NOT_AVAILABLE);
            }
            if (generationId < 0 && group.state == GroupState.EMPTY) {
                return write(groupId, commits);
            }
            Errors invalid = checkMember(group, memberId, instanceId);
            if (invalid != Errors.NONE) {
                return done(invalid);
            }
            GroupMember member = group.members.get(memberId);
            if (generationId != group.generationId) {
                return done(Errors.ILLEGAL_GENERATION);
            }
            if (group.state == GroupState.COMPLETING_REBALANCE) {
                return done(Errors.REBALANCE_IN_PROGRESS);
            }
            if (member.awaitingJoin == null) {
                scheduleSessionExpiry(group, member);
            }
            return write(groupId, commits);
        }
    }

    private CompletableFuture<Errors> write(GroupKey groupId, Map<TopicPartition, CommittedOffset> commits) {
        if (commits.isEmpty()) {
            return done(Errors.NONE);
        }
        return durably(groupId, () -> offsets.commit(groupId, commits));
    }

    /**
     * TxnOffsetCommit: offsets a transactional producer commits for a group, pending until its transaction ends
     * ({@link #completeTransaction}). The producer is checked first, then, as Kafka does for a request that names a
     * member or a generation (TxnOffsetCommit v3+), the member and its generation; a transactional commit is not
     * refused during a rebalance, nor without a member while the group has members (older versions name none).
     * Completes once the pending offsets are durable.
     *
     * @param producerCheck the transaction coordinator's answer whether the producer may commit offsets for this group
     *                      in its ongoing transaction; asked under the group's lock, so that a commit it lets through
     *                      is written before the transaction's completion for the group, which takes the lock too
     */
    public CompletableFuture<Errors> commitTransactional(GroupKey groupId, long producerId, int generationId,
                                                         String memberId, String instanceId,
                                                         Supplier<Errors> producerCheck,
                                                         Map<TopicPartition, CommittedOffset> commits) {
        if (groupId.groupId() == null || groupId.groupId().isEmpty()) {
            return done(Errors.INVALID_GROUP_ID);
        }
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            if (generationId >= 0) {
                Errors producer = producerCheck.get();
                return done(producer != Errors.NONE ? producer : Errors.ILLEGAL_GENERATION);
            }
            group = groups.computeIfAbsent(groupId, id -> new ClassicGroup(id, clock.millis()));
        }
        synchronized (group) {
            if (group.state == GroupState.DEAD) {
                return done(Errors.COORDINATOR_NOT_AVAILABLE);
            }
            Errors producer = producerCheck.get();
            if (producer != Errors.NONE) {
                return done(producer);
            }
            boolean namesMember = generationId >= 0 || (memberId != null && !memberId.isEmpty())
                    || instanceId != null;
            if (namesMember && !(generationId < 0 && group.state == GroupState.EMPTY)) {
                Errors invalid = checkMember(group, memberId, instanceId);
                if (invalid != Errors.NONE) {
                    return done(invalid);
                }
                if (generationId != group.generationId) {
                    return done(Errors.ILLEGAL_GENERATION);
                }
            }
            if (commits.isEmpty()) {
                return done(Errors.NONE);
            }
            return durably(groupId, () -> offsets.commitPending(groupId, producerId, commits));
        }
    }

    /**
     * Ends a producer's transaction for a group, as the transaction coordinator asks once the transaction is decided:
     * on commit its pending offsets become the group's committed offsets, on abort they are dropped. Completes once
     * that is durable; fails if it could not be written, and may then be asked again.
     */
    public CompletableFuture<Void> completeTransaction(GroupKey groupId, long producerId, boolean commit) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return offsets.completeTransaction(groupId, producerId, commit);
        }
        synchronized (group) {
            return offsets.completeTransaction(groupId, producerId, commit);
        }
    }

    private CompletableFuture<Errors> durably(GroupKey groupId, Supplier<CompletableFuture<Void>> write) {
        try {
            return write.get().handle((ok, error) -> error == null ? Errors.NONE
                    : Errors.forException(error instanceof java.util.concurrent.CompletionException
                    && error.getCause() != null ? error.getCause() : error));
        } catch (ApiException e) {
            return done(Errors.forException(e));
        } catch (RuntimeException e) {
            LOG.error("committing offsets of group {} failed", groupId, e);
            return done(Errors.forException(e));
        }
    }

    /** Whether an open transaction committed an offset of this partition for the group (KIP-447's unstable offset). */
    public boolean hasPendingTransactionalOffset(GroupKey groupId, TopicPartition partition) {
        return offsets.hasPending(groupId, partition);
    }

    /** A group's committed offsets, or those of {@code partitions} (missing ones are absent from the map). */
    public Map<TopicPartition, CommittedOffset> committed(GroupKey groupId, Collection<TopicPartition> partitions) {
        Map<TopicPartition, CommittedOffset> all = offsets.offsets(groupId);
        if (partitions == null) {
            return all;
        }
        Map<TopicPartition, CommittedOffset> selected = new HashMap<>();
        for (TopicPartition tp : partitions) {
            CommittedOffset offset = all.get(tp);
            if (offset != null) {
                selected.put(tp, offset);
            }
        }
        return selected;
    }

    /**
     * OffsetDelete: drops a group's offsets for partitions its members do not consume.
     *
     * @param subscribed tells whether a live member of the group subscribes to a topic
     * @return the group-level error, and per partition the error when the group-level one is NONE
     */
    public CompletableFuture<Map<TopicPartition, Errors>> deleteOffsets(GroupKey groupId,
                                                                         Collection<TopicPartition> partitions,
                                                                         Predicate<String> subscribedTopic) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return CompletableFuture.failedFuture(Errors.GROUP_ID_NOT_FOUND.exception());
        }
        synchronized (group) {
            if (group.state == GroupState.DEAD) {
                return CompletableFuture.failedFuture(Errors.GROUP_ID_NOT_FOUND.exception());
            }
            Map<TopicPartition, Errors> result = new LinkedHashMap<>();
            List<TopicPartition> deletable = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                if (group.state != GroupState.EMPTY && subscribedTopic.test(tp.topic())) {
                    result.put(tp, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
                } else {
                    result.put(tp, Errors.NONE);
                    deletable.add(tp);
                }
            }
            return offsets.delete(groupId, deletable).thenApply(ignored -> result);
        }
    }

    /** The topics a group's live members subscribe to (consumer protocol groups only). */
    public List<byte[]> memberSubscriptions(GroupKey groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return List.of();
        }
        synchronized (group) {
            if (!CONSUMER_PROTOCOL.equals(group.protocolType)) {
                return List.of();
            }
            List<byte[]> subscriptions = new ArrayList<>();
            for (GroupMember member : group.members.values()) {
                byte[] metadata = group.protocolName != null ? member.protocols.get(group.protocolName)
                        : member.protocols.values().iterator().next();
                if (metadata != null) {
                    subscriptions.add(metadata);
                }
            }
            return subscriptions;
        }
    }

    /** Removes every group's offsets of a tenant's deleted topic, pending transactional ones too. */
    public void onTopicDeleted(String tenantId, String topic) {
        for (GroupKey groupId : offsets.groups()) {
            if (!groupId.tenantId().equals(tenantId)) {
                continue;
            }
            List<TopicPartition> doomed = offsets.partitions(groupId).stream()
                    .filter(tp -> tp.topic().equals(topic)).toList();
            if (!doomed.isEmpty()) {
                offsets.delete(groupId, doomed);
            }
        }
    }

    /**
     * Expires committed offsets as Kafka does (offsets.retention.minutes): a group that has had members loses all its
     * offsets once it has been empty for the retention; a group that never had any (a standalone consumer or an admin
     * tool committing with generation -1, or a group known only from its offsets after a restart) loses each offset
     * the retention after that offset was last committed. An offset an open transaction has a pending commit for does
     * not expire until the transaction ends, and neither does its group. Empty groups left without offsets are
     * forgotten.
     */
    public void expireOffsets() {
        long now = clock.millis();
        long retention = settings.offsetsRetention().toMillis();
        for (ClassicGroup group : groups.values()) {
            synchronized (group) {
                if (group.state != GroupState.EMPTY) {
                    continue;
                }
                boolean perOffset = group.protocolType == null;
                if (!perOffset && now - group.stateSinceMs < retention) {
                    continue;
                }
                List<TopicPartition> expired = offsets.offsets(group.groupId).entrySet().stream()
                        .filter(e -> !perOffset || now - e.getValue().commitTimestamp() >= retention)
                        .map(Map.Entry::getKey)
                        .filter(tp -> !offsets.hasPending(group.groupId, tp)).toList();
                if (!expired.isEmpty()) {
                    LOG.info("group {}: {} offset(s) expire ({})", group.groupId, expired.size(), perOffset
                            ? "not committed for longer than the offsets retention"
                            : "the group has been empty for longer than the offsets retention");
                    offsets.delete(group.groupId, expired);
                }
                if (offsets.hasOffsets(group.groupId) || offsets.hasPending(group.groupId)
                        || now - group.stateSinceMs < retention) {
                    continue;
                }
                group.transition(GroupState.DEAD, now);
                groups.remove(group.groupId, group);
            }
        }
    }

    // ---------------------------------------------------------------- admin

    /** A tenant's groups. */
    public List<GroupOverview> list(String tenantId) {
        List<GroupOverview> overviews = new ArrayList<>();
        for (ClassicGroup group : groups.values()) {
            if (!group.groupId.tenantId().equals(tenantId)) {
                continue;
            }
            synchronized (group) {
                if (group.state != GroupState.DEAD) {
                    overviews.add(new GroupOverview(group.groupId.groupId(),
                            group.protocolType == null ? "" : group.protocolType, group.state));
                }
            }
        }
        return overviews;
    }

    public Optional<GroupDescription> describe(GroupKey groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return Optional.empty();
        }
        synchronized (group) {
            if (group.state == GroupState.DEAD) {
                return Optional.empty();
            }
            boolean stable = group.state == GroupState.STABLE;
            List<MemberDescription> members = new ArrayList<>();
            for (GroupMember m : group.members.values()) {
                members.add(new MemberDescription(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                        stable ? m.protocols.getOrDefault(group.protocolName, new byte[0]) : new byte[0],
                        stable ? m.assignment : new byte[0]));
            }
            return Optional.of(new GroupDescription(group.groupId.groupId(), group.state,
                    group.protocolType == null ? "" : group.protocolType,
                    stable && group.protocolName != null ? group.protocolName : "", members));
        }
    }

    /**
     * DeleteGroups: only an empty group can go; its offsets go with it (durably, when the future completes), and, as in
     * Kafka, so do the offsets open transactions committed for it, whose completion then finds nothing to commit.
     */
    public CompletableFuture<Errors> delete(GroupKey groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return done(Errors.GROUP_ID_NOT_FOUND);
        }
        synchronized (group) {
            if (group.state == GroupState.DEAD) {
                return done(Errors.GROUP_ID_NOT_FOUND);
            }
            if (group.state != GroupState.EMPTY) {
                return done(Errors.NON_EMPTY_GROUP);
            }
            group.transition(GroupState.DEAD, clock.millis());
            groups.remove(groupId, group);
            LOG.info("group {} deleted", groupId);
            return offsets.delete(groupId, null).handle((ok, error) -> error == null ? Errors.NONE
                    : Errors.KAFKA_STORAGE_ERROR);
        }
    }

    /**
     * Removes every group of a tenant that is being deleted, with its offsets (committed and pending): members still
     * joined are dropped, and their pending joins and syncs answered UNKNOWN_MEMBER_ID. Completes once the removal of
     * the offsets is durable.
     *
     * @return how many groups were removed
     */
    public CompletableFuture<Integer> removeTenant(String tenantId) {
        long now = clock.millis();
        Set<GroupKey> removed = new HashSet<>();
        for (ClassicGroup group : groups.values()) {
            if (!group.groupId.tenantId().equals(tenantId)) {
                continue;
            }
            synchronized (group) {
                for (GroupMember member : group.members.values()) {
                    cancelSessionExpiry(member);
                    fail(member, Errors.UNKNOWN_MEMBER_ID);
                }
                if (group.joinDeadline != null) {
                    group.joinDeadline.cancel(false);
                    group.joinDeadline = null;
                }
                group.transition(GroupState.DEAD, now);
                groups.remove(group.groupId, group);
                removed.add(group.groupId);
            }
        }
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        for (GroupKey groupId : offsets.groups()) {
            if (groupId.tenantId().equals(tenantId)) {
                removed.add(groupId);
                durable.add(offsets.delete(groupId, null));
            }
        }
        if (!removed.isEmpty()) {
            LOG.info("tenant {}: {} group(s) removed", tenantId, removed.size());
        }
        return CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new)).thenApply(ignored -> removed.size());
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    /** Stops every timer; pending joins and syncs are answered COORDINATOR_NOT_AVAILABLE so clients retry. */
    public void shutdown() {
        for (ClassicGroup group : groups.values()) {
            synchronized (group) {
                for (GroupMember member : group.members.values()) {
                    cancelSessionExpiry(member);
                    fail(member, Errors.COORDINATOR_NOT_AVAILABLE);
                }
                if (group.joinDeadline != null) {
                    group.joinDeadline.cancel(false);
                }
            }
        }
    }
}
