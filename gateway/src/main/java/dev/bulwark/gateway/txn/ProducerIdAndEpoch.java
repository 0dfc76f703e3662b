package dev.bulwark.gateway.txn;

/** A producer's identity as InitProducerId hands it out and as KIP-360 clients name it when they re-initialize. */
public record ProducerIdAndEpoch(long producerId, short epoch) {
}
