package dev.bulwark.gateway.protocol;

import java.util.concurrent.CompletionStage;

/**
 * Serves one Kafka API. Called on a request thread (never an event loop), in arrival order per connection; it may
 * block briefly on disk I/O and completes its stage when the answer is ready (after an fsync, a long poll, ...).
 */
@FunctionalInterface
public interface ApiHandler {
    CompletionStage<Reply> handle(Request request);
}
