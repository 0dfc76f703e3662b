/**
 * The audit trail: event model, the hash-chained journal with signed checkpoints, the query index and the offline
 * verifier. Plain Java, no Quarkus. Empty until the audit trail lands.
 */
package dev.bulwark.audit;
