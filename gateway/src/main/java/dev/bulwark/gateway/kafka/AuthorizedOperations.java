package dev.bulwark.gateway.kafka;

import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.utils.Utils;

import java.util.HashSet;
import java.util.Set;

/**
 * The authorized-operations bit fields of Metadata, DescribeCluster and DescribeTopicPartitions. Until ACLs are
 * enforced every principal may do everything, so these are the full sets Kafka defines per resource type.
 */
final class AuthorizedOperations {

    static final int TOPIC = bits(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DELETE,
            AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS);

    static final int CLUSTER = bits(AclOperation.CREATE, AclOperation.ALTER, AclOperation.DESCRIBE,
            AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS,
            AclOperation.IDEMPOTENT_WRITE, AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS);

    static final int GROUP = bits(AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE);

    /** Kafka's value for "not requested". */
    static final int OMITTED = Integer.MIN_VALUE;

    private AuthorizedOperations() {
    }

    private static int bits(AclOperation... operations) {
        Set<Byte> codes = new HashSet<>();
        for (AclOperation op : operations) {
            codes.add(op.code());
        }
        return Utils.to32BitField(codes);
    }
}
