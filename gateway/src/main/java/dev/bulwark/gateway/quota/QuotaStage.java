package dev.bulwark.gateway.quota;

import dev.bulwark.acl.quota.QuotaKind;
import dev.bulwark.acl.quota.QuotaManager;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.record.internal.BaseRecords;

import java.util.concurrent.CompletionStage;

/**
 * The quota stage of the request pipeline, as Kafka enforces client quotas since KIP-219: what a request uses is
 * recorded against the quotas of its principal and client id and of its tenant ({@link QuotaManager}), and a client
 * over a quota is answered at once with {@code throttle_time_ms} set; the connection then stops reading from the
 * socket for that long after sending the response (see {@code KafkaConnection}), so a client that honours the
 * throttle time simply slows down, without errors.
 *
 * <ul>
 *   <li>producer_byte_rate: the bytes of the record batches of a produce request, recorded before it is handled;</li>
 *   <li>consumer_byte_rate: the bytes of the records of a fetch response, recorded when it is ready (unlike Kafka,
 *       a throttled fetch still returns its records: the mute holds the consumer back just the same);</li>
 *   <li>request_percentage: the time the handler took on the request thread, as a percentage of one thread;
 *       ApiVersions and the SASL requests are exempt, as in Kafka.</li>
 * </ul>
 * The longest throttle applies. When no quota is set anywhere the stage does nothing at all.
 *
 * <p>Threads: {@link #beforeHandling} and {@link #afterHandling} run on the request thread; the fetch measurement
 * runs wherever the handler completes.
 */
public final class QuotaStage {

    private static final double PERCENT_PER_NANO = 100.0 / 1_000_000_000L;

    private final QuotaManager quotas;

    public QuotaStage(QuotaManager quotas) {
        this.quotas = quotas;
    }

    /** Before the handler: records a produce request's bytes; returns the throttle they earned, in ms. */
    public int beforeHandling(Request request) {
        if (request.apiKey() != ApiKeys.PRODUCE || !quotas.anyQuota()) {
            return 0;
        }
        ProduceRequestData data = request.data();
        long bytes = 0;
        for (ProduceRequestData.TopicProduceData topic : data.topicData()) {
            for (ProduceRequestData.PartitionProduceData partition : topic.partitionData()) {
                BaseRecords records = partition.records();
                bytes += records == null ? 0 : records.sizeInBytes();
            }
        }
        return record(request, QuotaKind.PRODUCER_BYTE_RATE, bytes);
    }

    /**
     * After the handler returned: records its time on the request thread and, for a fetch, the response's bytes once
     * it is ready; the reply carries the longest throttle earned.
     *
     * @param throttleMs   the throttle {@link #beforeHandling} returned
     * @param handlerNanos how long the handler ran on the request thread
     */
    public CompletionStage<Reply> afterHandling(Request request, CompletionStage<Reply> reply, int throttleMs,
                                                long handlerNanos) {
        ApiKeys api = request.apiKey();
        if (isExempt(api) || !quotas.anyQuota()) {
            return reply;
        }
        int throttle = Math.max(throttleMs,
                record(request, QuotaKind.REQUEST_PERCENTAGE, handlerNanos * PERCENT_PER_NANO));
        if (api != ApiKeys.FETCH && throttle == 0) {
            return reply;
        }
        return reply.thenApply(answer -> {
            if (!(answer instanceof Reply.Respond respond)) {
                return answer;
            }
            int total = throttle;
            if (respond.body() instanceof FetchResponseData fetch) {
                total = Math.max(total, record(request, QuotaKind.CONSUMER_BYTE_RATE, bytes(fetch)));
            }
            if (total > 0) {
                ThrottleTimeField.set(respond.body(), total);
            }
            return answer;
        });
    }

    private static boolean isExempt(ApiKeys api) {
        return api == ApiKeys.API_VERSIONS || api == ApiKeys.SASL_HANDSHAKE || api == ApiKeys.SASL_AUTHENTICATE;
    }

    private int record(Request request, QuotaKind kind, double value) {
        return quotas.record(kind, request.tenantId(), request.principal().user(), request.context().clientId(),
                value);
    }

    private static long bytes(FetchResponseData fetch) {
        long bytes = 0;
        for (FetchResponseData.FetchableTopicResponse topic : fetch.responses()) {
            for (FetchResponseData.PartitionData partition : topic.partitions()) {
                BaseRecords records = partition.records();
                bytes += records == null ? 0 : records.sizeInBytes();
            }
        }
        return bytes;
    }
}
