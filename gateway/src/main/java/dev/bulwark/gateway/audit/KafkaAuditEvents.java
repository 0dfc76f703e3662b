package dev.bulwark.gateway.audit;

import dev.bulwark.audit.Outcome;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.function.Function;

/**
 * What a Kafka request and its response tell the audit trail, resource by resource: every outcome of an
 * administrative change (topics, partitions, records deleted, configs, ACLs, quotas, SCRAM credentials, groups
 * deleted), and every authorization denial of any API that the client is told of.
 *
 * <p>Actions are Kafka's API names in lower case ({@code create_topics}, {@code produce}); resources are
 * {@code <type>:<name>} ({@code topic:payments}, {@code group:billing}, {@code user:alice}, {@code cluster:kafka-cluster}).
 * Denials are read from the response's error codes, the same the client gets: a topic that a listing leaves out
 * because the principal may not see it was never asked for, so it is not a denial.
 */
final class KafkaAuditEvents {

    /** An audited outcome about one resource. */
    record Finding(String action, String resource, Outcome outcome, String reason, Map<String, String> details) {
    }

    /** The APIs that change the cluster: their every outcome is audited, and answered only once it is durable. */
    static final Set<ApiKeys> ADMIN_CHANGES = EnumSet.of(ApiKeys.CREATE_TOPICS, ApiKeys.DELETE_TOPICS,
            ApiKeys.CREATE_PARTITIONS, ApiKeys.DELETE_RECORDS, ApiKeys.ALTER_CONFIGS,
            ApiKeys.INCREMENTAL_ALTER_CONFIGS, ApiKeys.CREATE_ACLS, ApiKeys.DELETE_ACLS, ApiKeys.ALTER_CLIENT_QUOTAS,
            ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, ApiKeys.DELETE_GROUPS, ApiKeys.OFFSET_DELETE);

    private static final Set<Errors> DENIALS = EnumSet.of(Errors.TOPIC_AUTHORIZATION_FAILED,
            Errors.GROUP_AUTHORIZATION_FAILED, Errors.CLUSTER_AUTHORIZATION_FAILED,
            Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, Errors.DELEGATION_TOKEN_AUTHORIZATION_FAILED);

    private static final ClassValue<Optional<Method>> ERROR_CODE = accessor("errorCode");
    private static final ClassValue<Optional<Method>> GROUP_ID = accessor("groupId");
    private static final ClassValue<Optional<Method>> TRANSACTIONAL_ID = accessor("transactionalId");

    private KafkaAuditEvents() {
    }

    static String action(ApiKeys api) {
        return api.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The findings of one request.
     *
     * @param topicNames names the topics a request or response gives by id only
     */
    static List<Finding> of(ApiKeys api, ApiMessage request, ApiMessage response, Function<Uuid, String> topicNames) {
        List<Finding> found = new ArrayList<>();
        String action = action(api);
        switch (api) {
            case CREATE_TOPICS -> {
                if (((CreateTopicsRequestData) request).validateOnly()) {
                    break;
                }
                for (CreateTopicsResponseData.CreatableTopicResult t : ((CreateTopicsResponseData) response).topics()) {
                    found.add(outcome(action, "topic:" + t.name(), t.errorCode(), t.errorMessage(),
                            Map.of("partitions", Integer.toString(t.numPartitions()))));
                }
            }
            case DELETE_TOPICS -> {
                for (DeleteTopicsResponseData.DeletableTopicResult t
                        : ((DeleteTopicsResponseData) response).responses()) {
                    String name = t.name() != null ? t.name() : topicNames.apply(t.topicId());
                    found.add(outcome(action, "topic:" + name, t.errorCode(), t.errorMessage(), Map.of()));
                }
            }
            case CREATE_PARTITIONS -> {
                CreatePartitionsRequestData asked = (CreatePartitionsRequestData) request;
                if (asked.validateOnly()) {
                    break;
                }
                for (CreatePartitionsResponseData.CreatePartitionsTopicResult t
                        : ((CreatePartitionsResponseData) response).results()) {
                    CreatePartitionsRequestData.CreatePartitionsTopic topic = asked.topics().find(t.name());
                    found.add(outcome(action, "topic:" + t.name(), t.errorCode(), t.errorMessage(), topic == null
                            ? Map.of() : Map.of("count", Integer.toString(topic.count()))));
                }
            }
            case DELETE_RECORDS -> {
                for (DeleteRecordsResponseData.DeleteRecordsTopicResult t
                        : ((DeleteRecordsResponseData) response).topics()) {
                    for (DeleteRecordsResponseData.DeleteRecordsPartitionResult p : t.partitions()) {
                        found.add(outcome(action, "topic:" + t.name(), p.errorCode(), null, Map.of(
                                "partition", Integer.toString(p.partitionIndex()),
                                "lowWatermark", Long.toString(p.lowWatermark()))));
                    }
                }
            }
            case ALTER_CONFIGS -> {
                AlterConfigsRequestData asked = (AlterConfigsRequestData) request;
                if (asked.validateOnly()) {
                    break;
                }
                for (AlterConfigsResponseData.AlterConfigsResourceResponse r
                        : ((AlterConfigsResponseData) response).responses()) {
                    AlterConfigsRequestData.AlterConfigsResource resource = asked.resources()
                            .find(r.resourceType(), r.resourceName());
                    Map<String, String> details = new LinkedHashMap<>();
                    if (resource != null) {
                        resource.configs().forEach(c -> details.put("set." + c.name(), c.value()));
                    }
                    found.add(outcome(action, configResource(r.resourceType(), r.resourceName()), r.errorCode(),
                            r.errorMessage(), details));
                }
            }
            case INCREMENTAL_ALTER_CONFIGS -> {
                IncrementalAlterConfigsRequestData asked = (IncrementalAlterConfigsRequestData) request;
                if (asked.validateOnly()) {
                    break;
                }
                for (IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse r
                        : ((IncrementalAlterConfigsResponseData) response).responses()) {
                    IncrementalAlterConfigsRequestData.AlterConfigsResource resource = asked.resources()
                            .find(r.resourceType(), r.resourceName());
                    Map<String, String> details = new LinkedHashMap<>();
                    if (resource != null) {
                        resource.configs().forEach(c -> details.put(opName(c.configOperation()) + "." + c.name(),
                                c.value()));
                    }
                    found.add(outcome(action, configResource(r.resourceType(), r.resourceName()), r.errorCode(),
                            r.errorMessage(), details));
                }
            }
            case DESCRIBE_CONFIGS -> {
                for (DescribeConfigsResponseData.DescribeConfigsResult r
                        : ((DescribeConfigsResponseData) response).results()) {
                    denial(found, action, configResource(r.resourceType(), r.resourceName()), r.errorCode(),
                            r.errorMessage());
                }
            }
            case CREATE_ACLS -> {
                List<CreateAclsRequestData.AclCreation> creations = ((CreateAclsRequestData) request).creations();
                List<CreateAclsResponseData.AclCreationResult> results = ((CreateAclsResponseData) response).results();
                for (int i = 0; i < Math.min(creations.size(), results.size()); i++) {
                    CreateAclsRequestData.AclCreation c = creations.get(i);
                    found.add(outcome(action, aclResource(c.resourceType(), c.resourceName()),
                            results.get(i).errorCode(), results.get(i).errorMessage(), acl(c.resourcePatternType(),
                                    c.principal(), c.host(), c.operation(), c.permissionType())));
                }
            }
            case DELETE_ACLS -> {
                for (DeleteAclsResponseData.DeleteAclsFilterResult filter
                        : ((DeleteAclsResponseData) response).filterResults()) {
                    if (filter.errorCode() != Errors.NONE.code()) {
                        found.add(outcome(action, "acl:*", filter.errorCode(), filter.errorMessage(), Map.of()));
                        continue;
                    }
                    for (DeleteAclsResponseData.DeleteAclsMatchingAcl m : filter.matchingAcls()) {
                        found.add(outcome(action, aclResource(m.resourceType(), m.resourceName()), m.errorCode(),
                                m.errorMessage(), acl(m.patternType(), m.principal(), m.host(), m.operation(),
                                        m.permissionType())));
                    }
                }
            }
            case ALTER_CLIENT_QUOTAS -> {
                AlterClientQuotasRequestData asked = (AlterClientQuotasRequestData) request;
                if (asked.validateOnly()) {
                    break;
                }
                for (AlterClientQuotasResponseData.EntryData e : ((AlterClientQuotasResponseData) response).entries()) {
                    StringJoiner entity = new StringJoiner(",", "quota:", "");
                    e.entity().forEach(part -> entity.add(part.entityType() + "="
                            + (part.entityName() == null ? "<default>" : part.entityName())));
                    Map<String, String> details = new LinkedHashMap<>();
                    for (AlterClientQuotasRequestData.EntryData asked1 : asked.entries()) {
                        if (sameEntity(asked1.entity(), e.entity())) {
                            asked1.ops().forEach(op -> details.put(op.key(), op.remove() ? "removed"
                                    : Double.toString(op.value())));
                        }
                    }
                    found.add(outcome(action, entity.toString(), e.errorCode(), e.errorMessage(), details));
                }
            }
            case ALTER_USER_SCRAM_CREDENTIALS -> {
                AlterUserScramCredentialsRequestData asked = (AlterUserScramCredentialsRequestData) request;
                for (AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult r
                        : ((AlterUserScramCredentialsResponseData) response).results()) {
                    Map<String, String> details = new LinkedHashMap<>();
                    asked.upsertions().stream().filter(u -> u.name().equals(r.user()))
                            .forEach(u -> details.put("upsert.mechanism." + u.mechanism(),
                                    Integer.toString(u.iterations())));
                    asked.deletions().stream().filter(d -> d.name().equals(r.user()))
                            .forEach(d -> details.put("delete.mechanism." + d.mechanism(), "deleted"));
                    found.add(outcome(action, "user:" + r.user(), r.errorCode(), r.errorMessage(), details));
                }
            }
            case DELETE_GROUPS -> {
                for (DeleteGroupsResponseData.DeletableGroupResult g : ((DeleteGroupsResponseData) response).results()) {
                    found.add(outcome(action, "group:" + g.groupId(), g.errorCode(), null, Map.of()));
                }
            }
            case PRODUCE -> {
                for (ProduceResponseData.TopicProduceResponse t : ((ProduceResponseData) response).responses()) {
                    String name = t.name() == null || t.name().isEmpty() ? topicNames.apply(t.topicId()) : t.name();
                    t.partitionResponses().stream().map(p -> p.errorCode()).filter(KafkaAuditEvents::isDenial)
                            .findFirst().ifPresent(code -> denial(found, action, "topic:" + name, code, null));
                }
            }
            case FETCH -> {
                for (FetchResponseData.FetchableTopicResponse t : ((FetchResponseData) response).responses()) {
                    String name = t.topic() == null || t.topic().isEmpty() ? topicNames.apply(t.topicId())
                            : t.topic();
                    t.partitions().stream().map(p -> p.errorCode()).filter(KafkaAuditEvents::isDenial)
                            .findFirst().ifPresent(code -> denial(found, action, "topic:" + name, code, null));
                }
            }
            case METADATA -> {
                for (MetadataResponseData.MetadataResponseTopic t : ((MetadataResponseData) response).topics()) {
                    String name = t.name() == null ? topicNames.apply(t.topicId()) : t.name();
                    denial(found, action, "topic:" + name, t.errorCode(), null);
                }
            }
            case LIST_OFFSETS -> {
                for (ListOffsetsResponseData.ListOffsetsTopicResponse t : ((ListOffsetsResponseData) response).topics()) {
                    t.partitions().stream().map(p -> p.errorCode()).filter(KafkaAuditEvents::isDenial).findFirst()
                            .ifPresent(code -> denial(found, action, "topic:" + t.name(), code, null));
                }
            }
            case OFFSET_COMMIT -> {
                for (OffsetCommitResponseData.OffsetCommitResponseTopic t
                        : ((OffsetCommitResponseData) response).topics()) {
                    t.partitions().stream().map(p -> p.errorCode()).filter(KafkaAuditEvents::isDenial).findFirst()
                            .ifPresent(code -> denial(found, action, code == Errors.GROUP_AUTHORIZATION_FAILED.code()
                                    ? group(request) : "topic:" + t.name(), code, null));
                }
            }
            case OFFSET_FETCH -> {
                OffsetFetchResponseData fetched = (OffsetFetchResponseData) response;
                for (OffsetFetchResponseData.OffsetFetchResponseGroup g : fetched.groups()) {
                    denial(found, action, "group:" + g.groupId(), g.errorCode(), null);
                }
                denial(found, action, group(request), fetched.errorCode(), null);
            }
            case DESCRIBE_GROUPS -> {
                for (DescribeGroupsResponseData.DescribedGroup g : ((DescribeGroupsResponseData) response).groups()) {
                    denial(found, action, "group:" + g.groupId(), g.errorCode(), null);
                }
            }
            case FIND_COORDINATOR -> {
                FindCoordinatorResponseData coordinators = (FindCoordinatorResponseData) response;
                for (FindCoordinatorResponseData.Coordinator c : coordinators.coordinators()) {
                    denial(found, action, (c.errorCode() == Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()
                            ? "transactional_id:" : "group:") + c.key(), c.errorCode(), c.errorMessage());
                }
                denial(found, action, "cluster:kafka-cluster", coordinators.errorCode(),
                        coordinators.errorMessage());
            }
            default -> {
                Optional<Short> code = call(ERROR_CODE, response).map(Short.class::cast);
                if (code.isPresent()) {
                    String resource = code.get() == Errors.CLUSTER_AUTHORIZATION_FAILED.code()
                            ? "cluster:kafka-cluster" : call(TRANSACTIONAL_ID, request).map(id -> "transactional_id:" + id)
                            .orElseGet(() -> group(request));
                    if (ADMIN_CHANGES.contains(api)) {
                        found.add(outcome(action, resource, code.get(), null, Map.of()));
                    } else {
                        denial(found, action, resource, code.get(), null);
                    }
                }
            }
        }
        return found;
    }

    static boolean isDenial(short code) {
        return DENIALS.contains(Errors.forCode(code));
    }

    private static void denial(List<Finding> found, String action, String resource, short code, String message) {
        if (isDenial(code)) {
            found.add(new Finding(action, resource, Outcome.DENIED, reason(code, message), Map.of()));
        }
    }

    private static Finding outcome(String action, String resource, short code, String message,
                                   Map<String, String> details) {
        Outcome outcome = code == Errors.NONE.code() ? Outcome.SUCCESS
                : isDenial(code) ? Outcome.DENIED : Outcome.FAILURE;
        return new Finding(action, resource, outcome, outcome == Outcome.SUCCESS ? null : reason(code, message),
                details);
    }

    private static String reason(short code, String message) {
        Errors error = Errors.forCode(code);
        return error.name() + (message == null || message.isEmpty() ? "" : ": " + message);
    }

    private static String group(ApiMessage request) {
        return call(GROUP_ID, request).map(id -> "group:" + id).orElse("cluster:kafka-cluster");
    }

    private static String configResource(byte type, String name) {
        ConfigResource.Type kind = ConfigResource.Type.forId(type);
        return kind.name().toLowerCase(Locale.ROOT) + ":" + (name.isEmpty() ? "<default>" : name);
    }

    private static String aclResource(byte type, String name) {
        return ResourceType.fromCode(type).name().toLowerCase(Locale.ROOT) + ":" + name;
    }

    private static Map<String, String> acl(byte pattern, String principal, String host, byte operation,
                                           byte permission) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("pattern", PatternType.fromCode(pattern).name());
        details.put("principal", principal);
        details.put("host", host);
        details.put("operation", AclOperation.fromCode(operation).name());
        details.put("permission", AclPermissionType.fromCode(permission).name());
        return details;
    }

    private static String opName(byte operation) {
        return switch (operation) {
            case 0 -> "set";
            case 1 -> "delete";
            case 2 -> "append";
            case 3 -> "subtract";
            default -> "op" + operation;
        };
    }

    private static boolean sameEntity(List<AlterClientQuotasRequestData.EntityData> asked,
                                      List<AlterClientQuotasResponseData.EntityData> answered) {
        if (asked.size() != answered.size()) {
            return false;
        }
        for (int i = 0; i < asked.size(); i++) {
            if (!asked.get(i).entityType().equals(answered.get(i).entityType())
                    || !Objects.equals(asked.get(i).entityName(), answered.get(i).entityName())) {
                return false;
            }
        }
        return true;
    }

    private static ClassValue<Optional<Method>> accessor(String name) {
        return new ClassValue<>() {
            @Override
            protected Optional<Method> computeValue(Class<?> type) {
                try {
                    return Optional.of(type.getMethod(name));
                } catch (NoSuchMethodException e) {
                    return Optional.empty();
                }
            }
        };
    }

    private static Optional<Object> call(ClassValue<Optional<Method>> accessor, ApiMessage message) {
        Optional<Method> method = accessor.get(message.getClass());
        if (method.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(method.get().invoke(message));
        } catch (ReflectiveOperationException e) {
            return Optional.empty();
        }
    }
}
