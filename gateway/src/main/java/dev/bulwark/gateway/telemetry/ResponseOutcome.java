package dev.bulwark.gateway.telemetry;

import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractResponse;

import java.util.Map;
import java.util.TreeMap;

/**
 * How a response ended, for a span: "ok", or its Kafka error codes with their counts ("UNKNOWN_TOPIC_OR_PARTITION x2").
 * The errors are Kafka's own reading of each response ({@link AbstractResponse#errorCounts}), reached by writing the
 * body and parsing it back: costly, so only for spans that are recorded. A fetch response's records are read from
 * disk buffers that only the connection may write out, so its partitions' codes are read directly instead.
 */
final class ResponseOutcome {

    private ResponseOutcome() {
    }

    static String of(Request request, ApiMessage body) {
        Map<Errors, Integer> counts = request.apiKey() == ApiKeys.FETCH
                ? fetchErrors((FetchResponseData) body)
                : AbstractResponse.parseResponse(request.apiKey(),
                        MessageUtil.toByteBufferAccessor(body, request.version()), request.version()).errorCounts();
        StringBuilder outcome = new StringBuilder();
        new TreeMap<>(counts).forEach((error, count) -> {
            if (error != Errors.NONE) {
                outcome.append(outcome.isEmpty() ? "" : ", ").append(error.name())
                        .append(count > 1 ? " x" + count : "");
            }
        });
        return outcome.isEmpty() ? "ok" : outcome.toString();
    }

    private static Map<Errors, Integer> fetchErrors(FetchResponseData fetch) {
        Map<Errors, Integer> counts = new TreeMap<>();
        counts.merge(Errors.forCode(fetch.errorCode()), 1, Integer::sum);
        for (FetchResponseData.FetchableTopicResponse topic : fetch.responses()) {
            for (FetchResponseData.PartitionData partition : topic.partitions()) {
                counts.merge(Errors.forCode(partition.errorCode()), 1, Integer::sum);
            }
        }
        return counts;
    }
}
