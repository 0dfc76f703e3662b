/**
 * The audit trail: the event model ({@link dev.bulwark.audit.AuditEvent}) and, in {@code journal}, the sealed,
 * hash-chained journal with signed checkpoints and its verifier. Plain Java, no Quarkus.
 */
package dev.bulwark.audit;
