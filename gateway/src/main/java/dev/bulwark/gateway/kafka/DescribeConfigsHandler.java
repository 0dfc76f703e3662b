package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.cluster.TopicCatalog;
import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * DescribeConfigs for topics and for this broker (its own resource and the cluster-wide default ""). Needs
 * DESCRIBE_CONFIGS on the topic, or on the cluster for the broker.
 */
public final class DescribeConfigsHandler implements ApiHandler {

    private final TopicCatalog catalog;
    private final ConfigView view;
    private final ClusterIdentity cluster;
    private final AccessControl access;

    public DescribeConfigsHandler(TopicCatalog catalog, dev.bulwark.gateway.config.BrokerConfigs broker,
                                  ClusterIdentity cluster, AccessControl access) {
        this.catalog = catalog;
        this.view = new ConfigView(broker);
        this.cluster = cluster;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        Topics topics = catalog.forTenant(request.tenantId());
        DescribeConfigsRequestData data = request.data();
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        for (DescribeConfigsResource resource : data.resources()) {
            DescribeConfigsResult result = new DescribeConfigsResult().setResourceType(resource.resourceType())
                    .setResourceName(resource.resourceName());
            ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
            List<ConfigView.Described> configs = null;
            if (type == ConfigResource.Type.TOPIC) {
                Optional<TopicMetadata> topic = topics.byName(resource.resourceName());
                if (!access.topic(request, AclOperation.DESCRIBE_CONFIGS, resource.resourceName())) {
                    result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                            .setErrorMessage(Errors.TOPIC_AUTHORIZATION_FAILED.message());
                } else if (topic.isEmpty()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code())
                            .setErrorMessage("Topic " + resource.resourceName() + " does not exist");
                } else {
                    configs = view.topic(topic.get(), resource.configurationKeys());
                }
            } else if (type == ConfigResource.Type.BROKER) {
                if (!access.cluster(request, AclOperation.DESCRIBE_CONFIGS)) {
                    result.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                            .setErrorMessage(Errors.CLUSTER_AUTHORIZATION_FAILED.message());
                } else if (resource.resourceName().isEmpty()) {
                    configs = view.broker(true, resource.configurationKeys());
                } else if (resource.resourceName().equals(Integer.toString(cluster.nodeId()))) {
                    configs = view.broker(false, resource.configurationKeys());
                } else {
                    result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Broker "
                            + resource.resourceName() + " is not this broker (" + cluster.nodeId() + ")");
                }
            } else {
                result.setErrorCode(Errors.INVALID_REQUEST.code())
                        .setErrorMessage("Bulwark does not describe configs of resource type " + type);
            }
            if (configs != null) {
                result.setConfigs(toResults(configs, data.includeSynonyms(), data.includeDocumentation()));
            }
            response.results().add(result);
        }
        return Reply.completed(response);
    }

    private static List<DescribeConfigsResourceResult> toResults(List<ConfigView.Described> configs, boolean synonyms,
                                                                 boolean documentation) {
        List<DescribeConfigsResourceResult> results = new ArrayList<>(configs.size());
        for (ConfigView.Described c : configs) {
            DescribeConfigsResourceResult r = new DescribeConfigsResourceResult()
                    .setName(c.name()).setValue(c.value()).setReadOnly(c.readOnly())
                    .setConfigSource(c.source().id()).setIsSensitive(false)
                    .setConfigType(c.type().id())
                    .setDocumentation(documentation ? c.documentation() : null);
            if (synonyms) {
                for (ConfigView.Synonym s : c.synonyms()) {
                    r.synonyms().add(new DescribeConfigsSynonym().setName(s.name()).setValue(s.value())
                            .setSource(s.source().id()));
                }
            }
            results.add(r);
        }
        return results;
    }
}
