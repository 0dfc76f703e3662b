/**
 * The audit trail: the event model ({@link dev.bulwark.audit.AuditEvent}) and, in {@code journal}, the sealed,
 * hash-chained journal with signed checkpoints, its verifier, and auditors' queries through its index
 * ({@link dev.bulwark.audit.journal.JournalSearch}). Plain Java, no Quarkus.
 */
package dev.bulwark.audit;
