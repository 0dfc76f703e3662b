package dev.bulwark.gateway.protocol;

import org.apache.kafka.common.protocol.ApiMessage;

import java.util.concurrent.CompletableFuture;

/** What a request gets: a response body, nothing (acks=0 produce), a closed connection, or a raw SASL token. */
public sealed interface Reply {

    /**
     * A response, and what to free once it is encoded or dropped (buffers of records read from disk).
     */
    record Respond(ApiMessage body, Runnable release) implements Reply {
    }

    record NoResponse() implements Reply {
    }

    /** Kafka closes the connection instead of answering, e.g. for a failed acks=0 produce. */
    record Close(String reason) implements Reply {
    }

    /** A response after which the connection closes: a failed SASL authentication, an unsupported mechanism. */
    record RespondAndClose(ApiMessage body) implements Reply {
    }

    /** A SASL token sent raw, length-prefixed without a response header: the answer after SaslHandshake v0. */
    record RawToken(byte[] token) implements Reply {
    }

    static Reply of(ApiMessage body) {
        return new Respond(body, () -> { });
    }

    static CompletableFuture<Reply> completed(ApiMessage body) {
        return CompletableFuture.completedFuture(of(body));
    }
}
