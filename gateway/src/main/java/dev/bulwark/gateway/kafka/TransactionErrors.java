package dev.bulwark.gateway.kafka;

import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletionException;

/** How the transaction APIs answer the coordinator's outcome to the version of the client that asked. */
final class TransactionErrors {

    private static final Logger LOG = LoggerFactory.getLogger(TransactionErrors.class);

    private TransactionErrors() {
    }

    /**
     * Kafka's error code for a coordinator call that ended with {@code failure} (null for success). Clients older than
     * {@code fencedSince} do not know PRODUCER_FENCED and handle the older INVALID_PRODUCER_EPOCH the same way.
     */
    static Errors of(Throwable failure, short version, int fencedSince) {
        if (failure == null) {
            return Errors.NONE;
        }
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        Errors error = Errors.forException(cause);
        if (error == Errors.UNKNOWN_SERVER_ERROR) {
            LOG.error("a transaction request failed", cause);
        }
        return error == Errors.PRODUCER_FENCED && version < fencedSince ? Errors.INVALID_PRODUCER_EPOCH : error;
    }
}
