package dev.bulwark.gateway.protocol;

import org.apache.kafka.common.protocol.ApiKeys;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The (API, version) pairs whose authorization has been built and reviewed, and what each requires, as Kafka has it.
 * The pipeline refuses anything else with the API's authorization error, so a version that a kafka-clients upgrade
 * starts advertising (a new field naming a new resource, say) is denied until its checks are reviewed and its
 * version range here raised: the broker fails closed.
 */
public final class AuthorizationCoverage {

    /** What an API requires, through which version that has been reviewed. */
    public record Rule(short throughVersion, String requires) {
    }

    private static final Map<ApiKeys, Rule> RULES = new EnumMap<>(ApiKeys.class);

    static {
        rule(ApiKeys.API_VERSIONS, 5, "nothing (answered before authentication, as in Kafka)");
        rule(ApiKeys.SASL_HANDSHAKE, 1, "nothing (it is how a connection authenticates)");
        rule(ApiKeys.SASL_AUTHENTICATE, 2, "nothing (it is how a connection authenticates)");
        rule(ApiKeys.METADATA, 13, "DESCRIBE on each topic (a listing hides the others); auto-creation CREATE on "
                + "the cluster or the topic");
        rule(ApiKeys.PRODUCE, 13, "WRITE on each topic; WRITE on the transactional id of a transactional produce");
        rule(ApiKeys.FETCH, 18, "READ on each topic");
        rule(ApiKeys.LIST_OFFSETS, 11, "DESCRIBE on each topic");
        rule(ApiKeys.OFFSET_FOR_LEADER_EPOCH, 4, "DESCRIBE on each topic");
        rule(ApiKeys.INIT_PRODUCER_ID, 5, "WRITE on the transactional id; without one IDEMPOTENT_WRITE on the "
                + "cluster or WRITE on some topic");
        rule(ApiKeys.ADD_PARTITIONS_TO_TXN, 5, "WRITE on the transactional id and on each topic (versions 0-3); "
                + "CLUSTER_ACTION on the cluster for the batched versions 4-5");
        rule(ApiKeys.ADD_OFFSETS_TO_TXN, 4, "WRITE on the transactional id and READ on the group");
        rule(ApiKeys.END_TXN, 4, "WRITE on the transactional id");
        rule(ApiKeys.CREATE_TOPICS, 7, "CREATE on the cluster or the topic; DESCRIBE_CONFIGS on it to see its configs");
        rule(ApiKeys.DELETE_TOPICS, 6, "DELETE on each topic (DESCRIBE to learn a topic id's name)");
        rule(ApiKeys.CREATE_PARTITIONS, 3, "ALTER on each topic");
        rule(ApiKeys.DELETE_RECORDS, 2, "DELETE on each topic");
        rule(ApiKeys.DESCRIBE_CONFIGS, 4, "DESCRIBE_CONFIGS on each topic, or on the cluster for the broker");
        rule(ApiKeys.ALTER_CONFIGS, 2, "ALTER_CONFIGS on each topic, or on the cluster for the broker (operators "
                + "and the default tenant only)");
        rule(ApiKeys.INCREMENTAL_ALTER_CONFIGS, 1, "as AlterConfigs");
        rule(ApiKeys.DESCRIBE_CLUSTER, 2, "nothing; the authorized operations need DESCRIBE on the cluster to show");
        rule(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, 0, "DESCRIBE on each topic (a listing hides the others)");
        rule(ApiKeys.FIND_COORDINATOR, 6, "DESCRIBE on each group or transactional id");
        rule(ApiKeys.JOIN_GROUP, 9, "READ on the group");
        rule(ApiKeys.SYNC_GROUP, 5, "READ on the group");
        rule(ApiKeys.HEARTBEAT, 4, "READ on the group");
        rule(ApiKeys.LEAVE_GROUP, 5, "READ on the group");
        rule(ApiKeys.OFFSET_COMMIT, 10, "READ on the group and on each topic");
        rule(ApiKeys.OFFSET_FETCH, 10, "DESCRIBE on each group, and on a topic to see its offsets");
        rule(ApiKeys.OFFSET_DELETE, 0, "DELETE on the group and READ on each topic");
        rule(ApiKeys.TXN_OFFSET_COMMIT, 4, "WRITE on the transactional id, READ on the group and on each topic");
        rule(ApiKeys.LIST_GROUPS, 5, "DESCRIBE on the cluster for every group, else DESCRIBE on each group listed");
        rule(ApiKeys.DESCRIBE_GROUPS, 6, "DESCRIBE on each group");
        rule(ApiKeys.DELETE_GROUPS, 3, "DELETE on each group");
        rule(ApiKeys.LIST_TRANSACTIONS, 2, "DESCRIBE on each transactional id listed (a listing hides the others)");
        rule(ApiKeys.DESCRIBE_TRANSACTIONS, 0, "DESCRIBE on each transactional id; DESCRIBE on a topic to see its "
                + "partitions in the transaction");
        rule(ApiKeys.DESCRIBE_PRODUCERS, 0, "READ on each topic");
        rule(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, "the operator or tenant-admin role (own tenant's users)");
        rule(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, 0, "the operator or tenant-admin role (own tenant's users)");
        rule(ApiKeys.DESCRIBE_CLIENT_QUOTAS, 1, "the operator or tenant-admin role (own tenant's entities; ip "
                + "entities operators only)");
        rule(ApiKeys.ALTER_CLIENT_QUOTAS, 1, "the operator or tenant-admin role (own tenant's entities; ip entities "
                + "operators only)");
        rule(ApiKeys.CREATE_ACLS, 3, "ALTER on the cluster, in the tenant each ACL is for");
        rule(ApiKeys.DESCRIBE_ACLS, 3, "DESCRIBE on the cluster; shows the tenant's own ACLs (operators: all)");
        rule(ApiKeys.DELETE_ACLS, 3, "ALTER on the cluster; removes the tenant's own ACLs (operators: any)");
    }

    private AuthorizationCoverage() {
    }

    private static void rule(ApiKeys api, int throughVersion, String requires) {
        RULES.put(api, new Rule((short) throughVersion, requires));
    }

    /** Whether authorization of {@code api} at {@code version} is known. */
    public static boolean covers(ApiKeys api, short version) {
        Rule rule = RULES.get(api);
        return rule != null && version <= rule.throughVersion();
    }

    public static Optional<Rule> rule(ApiKeys api) {
        return Optional.ofNullable(RULES.get(api));
    }

    public static Map<ApiKeys, Rule> rules() {
        return Collections.unmodifiableMap(RULES);
    }
}
