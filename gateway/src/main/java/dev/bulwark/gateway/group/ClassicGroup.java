package dev.bulwark.gateway.group;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

/**
 * A classic consumer group's membership state. All fields are guarded by the group object's monitor; the
 * {@link GroupCoordinator} holds it for every change.
 */
final class ClassicGroup {

    final GroupKey groupId;
    GroupState state = GroupState.EMPTY;
    long stateSinceMs;
    int generationId;
    String protocolType;
    String protocolName;
    String leaderId;
    final LinkedHashMap<String, GroupMember> members = new LinkedHashMap<>();
    /** group.instance.id to the member id currently holding it (static membership, KIP-345). */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out by MEMBER_ID_REQUIRED that have not joined with them yet. */
    final Set<String> pendingMembers = new HashSet<>();
    /** Ends the join phase of a rebalance: the rebalance timeout, or the initial delay of a new group. */
    ScheduledFuture<?> joinDeadline;
    /** While a new group waits for more members (group.initial.rebalance.delay.ms), when that wait started. */
    long initialDelayStartedMs = -1;

    ClassicGroup(GroupKey groupId, long nowMs) {
        this.groupId = groupId;
        this.stateSinceMs = nowMs;
    }

    void transition(GroupState next, long nowMs) {
        state = next;
        stateSinceMs = nowMs;
    }

    boolean allMembersJoined() {
        if (!pendingMembers.isEmpty()) {
            return false;
        }
        for (GroupMember member : members.values()) {
            if (member.awaitingJoin == null) {
                return false;
            }
        }
        return true;
    }

    int rebalanceTimeoutMs() {
        int max = 0;
        for (GroupMember member : members.values()) {
            max = Math.max(max, member.rebalanceTimeoutMs);
        }
        return max;
    }

    /** The assignor every member supports that most members prefer (ties go to the earlier listed). */
    String selectProtocol() {
        Set<String> common = null;
        for (GroupMember member : members.values()) {
            if (common == null) {
                common = new HashSet<>(member.protocols.keySet());
            } else {
                common.retainAll(member.protocols.keySet());
            }
        }
        if (common == null || common.isEmpty()) {
            return null;
        }
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (GroupMember member : members.values()) {
            for (String name : member.protocols.keySet()) {
                if (common.contains(name)) {
                    votes.merge(name, 1, Integer::sum);
                    break;
                }
            }
        }
        String best = null;
        for (Map.Entry<String, Integer> vote : votes.entrySet()) {
            if (best == null || vote.getValue() > votes.get(best)) {
                best = vote.getKey();
            }
        }
        return best;
    }

    /**
     * Whether a member with these assignors can join (Kafka's rule): the same protocol type, and at least one assignor
     * that every current member supports too.
     */
    boolean supports(String type, Set<String> protocols) {
        if (members.isEmpty()) {
            return type != null && !type.isEmpty() && !protocols.isEmpty();
        }
        if (!type.equals(protocolType)) {
            return false;
        }
        Set<String> everyone = new HashSet<>(protocols);
        for (GroupMember member : members.values()) {
            everyone.retainAll(member.protocols.keySet());
        }
        return !everyone.isEmpty();
    }
}
