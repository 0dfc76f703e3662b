package dev.bulwark.gateway.telemetry;

import dev.bulwark.gateway.cluster.Topics;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ProduceRequestData;

import java.util.ArrayList;
import java.util.List;

/**
 * The topics a request names, for its span: those of produce, fetch, list-offsets, create- and delete-topics (the
 * requests that carry data or change topics). Newer fetch and delete requests name topics by id; the ids are looked up.
 */
final class RequestTopics {

    private RequestTopics() {
    }

    static List<String> of(Request request, Topics topics) {
        List<String> names = new ArrayList<>();
        switch (request.apiKey()) {
            case PRODUCE -> request.<ProduceRequestData>data().topicData()
                    .forEach(t -> names.add(name(t.name(), t.topicId(), topics)));
            case FETCH -> request.<FetchRequestData>data().topics()
                    .forEach(t -> names.add(name(t.topic(), t.topicId(), topics)));
            case LIST_OFFSETS -> request.<ListOffsetsRequestData>data().topics()
                    .forEach(t -> names.add(t.name()));
            case CREATE_TOPICS -> request.<CreateTopicsRequestData>data().topics()
                    .forEach(t -> names.add(t.name()));
            case DELETE_TOPICS -> {
                DeleteTopicsRequestData data = request.data();
                data.topicNames().forEach(names::add);
                data.topics().forEach(t -> names.add(name(t.name(), t.topicId(), topics)));
            }
            default -> {
            }
        }
        return names;
    }

    private static String name(String name, Uuid id, Topics topics) {
        if (name != null && !name.isEmpty()) {
            return name;
        }
        return topics.byId(id).map(TopicMetadata::name).orElse(String.valueOf(id));
    }
}
