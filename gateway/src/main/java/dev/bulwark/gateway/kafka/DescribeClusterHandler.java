package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.cluster.ClusterIdentity;
import dev.bulwark.gateway.protocol.ApiHandler;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeClusterResponseData.DescribeClusterBroker;
import org.apache.kafka.common.protocol.Errors;

import java.util.concurrent.CompletionStage;

/** DescribeCluster: this node, as broker and controller. */
public final class DescribeClusterHandler implements ApiHandler {

    /** DescribeCluster's endpoint type for brokers (controllers, 2, are not exposed by a broker listener). */
    private static final byte BROKER_ENDPOINTS = 1;

    private final ClusterIdentity cluster;
    private final AccessControl access;

    public DescribeClusterHandler(ClusterIdentity cluster, AccessControl access) {
        this.cluster = cluster;
        this.access = access;
    }

    @Override
    public CompletionStage<Reply> handle(Request request) {
        DescribeClusterRequestData data = request.data();
        DescribeClusterResponseData response = new DescribeClusterResponseData()
                .setClusterId(cluster.clusterId())
                .setEndpointType(data.endpointType());
        if (data.endpointType() != BROKER_ENDPOINTS) {
            return Reply.completed(response.setErrorCode(Errors.UNSUPPORTED_ENDPOINT_TYPE.code())
                    .setErrorMessage("This listener serves broker endpoints only"));
        }
        response.setControllerId(cluster.nodeId())
                .setClusterAuthorizedOperations(data.includeClusterAuthorizedOperations()
                        ? access.clusterOperations(request) : AccessControl.OMITTED);
        response.brokers().add(new DescribeClusterBroker().setBrokerId(cluster.nodeId())
                .setHost(request.listener().advertisedHost()).setPort(request.listener().advertisedPort())
                .setIsFenced(false));
        return Reply.completed(response);
    }
}
