package dev.bulwark.gateway.kafka;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Tenant;
import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.LogConfig;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * AlterConfigs (replaces a resource's dynamic configs) and IncrementalAlterConfigs (SET, DELETE, APPEND, SUBTRACT),
 * for topics and for the broker (its own resource or the cluster-wide default ""). Needs ALTER_CONFIGS on the topic,
 * or on the cluster for the broker (which also only operators and the default tenant may change). Every change is
 * validated as a whole before anything is applied; validate_only applies nothing.
 */
public final class AlterConfigsHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final BrokerConfigs broker;
    private final ClusterIdentity cluster;
    private final AccessControl access;

    public AlterConfigsHandler(TopicCatalog catalog, BrokerConfigs broker, ClusterIdentity cluster, AccessControl access) {
        this.catalog = catalog;
        this.broker = broker;
        this.cluster = cluster;
        this.access = access;
    }

    /** One requested change, either API. */
    private record Change(String name, AlterConfigOp.OpType op, String value) {
    }

    private record Outcome(Errors error, String message) {
        static final Outcome OK = new Outcome(Errors.NONE, null);
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        if (request.apiKey() == ApiKeys.INCREMENTAL_ALTER_CONFIGS) {
            IncrementalAlterConfigsRequestData data = request.data();
            IncrementalAlterConfigsResponseData response = new IncrementalAlterConfigsResponseData();
            for (IncrementalAlterConfigsRequestData.AlterConfigsResource resource : data.resources()) {
                List<Change> changes = new ArrayList<>();
                for (IncrementalAlterConfigsRequestData.AlterableConfig c : resource.configs()) {
                    changes.add(new Change(c.name(), AlterConfigOp.OpType.forId(c.configOperation()), c.value()));
                }
                Outcome outcome = alter(request, resource.resourceType(), resource.resourceName(), changes, true,
                        data.validateOnly());
                response.responses().add(new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse()
                        .setResourceType(resource.resourceType()).setResourceName(resource.resourceName())
                        .setErrorCode(outcome.error().code()).setErrorMessage(outcome.message()));
            }
            return Reply.completed(response);
        }
        AlterConfigsRequestData data = request.data();
        AlterConfigsResponseData response = new AlterConfigsResponseData();
        for (AlterConfigsRequestData.AlterConfigsResource resource : data.resources()) {
            List<Change> changes = new ArrayList<>();
            for (AlterConfigsRequestData.AlterableConfig c : resource.configs()) {
                changes.add(new Change(c.name(), AlterConfigOp.OpType.SET, c.value()));
            }
            Outcome outcome = alter(request, resource.resourceType(), resource.resourceName(), changes, false,
                    data.validateOnly());
            response.responses().add(new AlterConfigsResponseData.AlterConfigsResourceResponse()
                    .setResourceType(resource.resourceType()).setResourceName(resource.resourceName())
                    .setErrorCode(outcome.error().code()).setErrorMessage(outcome.message()));
        }
        return Reply.completed(response);
    }

    private Outcome alter(Request request, byte resourceType, String name, List<Change> changes, boolean incremental,
                          boolean validateOnly) {
        try {
            Set<String> seen = new HashSet<>();
            for (Change change : changes) {
                if (!seen.add(change.name())) {
                    throw new InvalidRequestException("Config " + change.name() + " appears more than once");
                }
            }
            ConfigResource.Type type = ConfigResource.Type.forId(resourceType);
            if (type == ConfigResource.Type.TOPIC) {
                if (!access.topic(request, AclOperation.ALTER_CONFIGS, name)) {
                    throw new TopicAuthorizationException("not authorized to alter the configs of topic " + name);
                }
                alterTopic(catalog.forTenant(request.tenantId()), name, changes, incremental, validateOnly);
            } else if (type == ConfigResource.Type.BROKER) {
                if (!mayAlterBroker(request.principal()) || !access.cluster(request, AclOperation.ALTER_CONFIGS)) {
                    throw new ClusterAuthorizationException("Broker configs are the installation's: only operators "
                            + "and principals of the default tenant alter them");
                }
                alterBroker(name, changes, incremental, validateOnly);
            } else {
                throw new InvalidRequestException("Bulwark does not alter configs of resource type " + type);
            }
            return Outcome.OK;
        } catch (ConfigException e) {
            return new Outcome(Errors.INVALID_CONFIG, e.getMessage());
        } catch (ApiException e) {
            return new Outcome(Errors.forException(e), e.getMessage());
        } catch (IOException e) {
            return new Outcome(Errors.KAFKA_STORAGE_ERROR, e.getMessage());
        }
    }

    /** Broker settings reach every tenant, so a tenant's principals never change them. */
    private static boolean mayAlterBroker(AuthenticatedPrincipal principal) {
        return principal.isOperator() || Tenant.DEFAULT_ID.equals(principal.tenantId());
    }

    private void alterTopic(Topics topics, String name, List<Change> changes, boolean incremental,
                            boolean validateOnly) throws IOException {
        TopicMetadata topic = topics.byName(name).orElseThrow(() ->
                new UnknownTopicOrPartitionException("Topic " + name + " does not exist"));
        Map<String, String> overrides = apply(incremental ? topic.configs() : Map.of(), changes,
                LogConfig.TOPIC_CONFIGS, n -> topic.configs().containsKey(n) ? topic.configs().get(n)
                        : LogConfig.serverDefaultName(n).map(broker::valueString).orElse(""));
        topics.validateConfig(overrides);
        if (!validateOnly) {
            topics.alterConfigs(topic, overrides);
        }
    }

    private void alterBroker(String name, List<Change> changes, boolean incremental, boolean validateOnly)
            throws IOException {
        boolean perBroker;
        if (name.isEmpty()) {
            perBroker = false;
        } else if (name.equals(Integer.toString(cluster.nodeId()))) {
            perBroker = true;
        } else {
            throw new InvalidRequestException("Broker " + name + " is not this broker (" + cluster.nodeId() + ")");
        }
        Map<String, String> current = broker.dynamicValues(perBroker);
        Map<String, String> values = apply(incremental ? current : Map.of(), changes, BrokerConfigs.DEFINITIONS,
                n -> current.getOrDefault(n, broker.valueString(n)));
        broker.validateDynamic(perBroker, values);
        if (!validateOnly) {
            broker.replaceDynamic(perBroker, values);
            catalog.updateServerDefaults(broker.values());
        }
    }

    private static Map<String, String> apply(Map<String, String> start, List<Change> changes, ConfigDef def,
                                             java.util.function.Function<String, String> currentValue) {
        Map<String, String> result = new HashMap<>(start);
        for (Change change : changes) {
            ConfigDef.ConfigKey key = def.configKeys().get(change.name());
            if (key == null) {
                throw new InvalidConfigurationException("Unknown config " + change.name());
            }
            switch (change.op()) {
                case SET -> {
                    if (change.value() == null) {
                        throw new InvalidRequestException("Null value not supported for: " + change.name());
                    }
                    result.put(change.name(), change.value());
                }
                case DELETE -> result.remove(change.name());
                case APPEND, SUBTRACT -> {
                    if (key.type != ConfigDef.Type.LIST) {
                        throw new InvalidRequestException("Config " + change.name() + " is not a list; "
                                + change.op() + " applies only to lists");
                    }
                    LinkedHashSet<String> items = new LinkedHashSet<>(split(result.containsKey(change.name())
                            ? result.get(change.name()) : currentValue.apply(change.name())));
                    List<String> given = split(change.value() == null ? "" : change.value());
                    if (change.op() == AlterConfigOp.OpType.APPEND) {
                        items.addAll(given);
                    } else {
                        given.forEach(items::remove);
                    }
                    result.put(change.name(), String.join(",", items));
                }
            }
        }
        return result;
    }

    private static List<String> split(String value) {
        List<String> items = new ArrayList<>();
        for (String item : value.split(",")) {
            if (!item.isBlank()) {
                items.add(item.trim());
            }
        }
        return items;
    }
}
