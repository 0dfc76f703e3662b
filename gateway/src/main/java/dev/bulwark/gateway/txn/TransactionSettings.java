package dev.bulwark.gateway.txn;

import java.time.Duration;

/**
 * The transaction coordinator's limits and timings, from Kafka's broker settings of the same names where Kafka has
 * them.
 *
 * @param maxTimeout          transaction.max.timeout.ms: the longest transaction time-out a producer may ask for
 * @param abortTimedOutCheck  transaction.abort.timed.out.transaction.cleanup.interval.ms: how often ongoing
 *                            transactions are checked for their time-out
 * @param markerRetryBackoff  how long to wait before writing a marker again to a partition that refused it (offline)
 * @param idExpiration        transactional.id.expiration.ms: how long a transactional id with no transaction open is
 *                            kept after its last change
 * @param idExpirationCheck   transaction.remove.expired.transaction.cleanup.interval.ms: how often expired
 *                            transactional ids are removed
 */
public record TransactionSettings(Duration maxTimeout, Duration abortTimedOutCheck, Duration markerRetryBackoff,
                                  Duration idExpiration, Duration idExpirationCheck) {

    public TransactionSettings {
        if (maxTimeout.isNegative() || maxTimeout.isZero()) {
            throw new IllegalArgumentException("transaction.max.timeout.ms must be positive");
        }
        if (abortTimedOutCheck.isNegative() || abortTimedOutCheck.isZero()) {
            throw new IllegalArgumentException(
                    "transaction.abort.timed.out.transaction.cleanup.interval.ms must be positive");
        }
        if (markerRetryBackoff.isNegative() || markerRetryBackoff.isZero()) {
            throw new IllegalArgumentException("the marker retry back-off must be positive");
        }
        if (idExpiration.isNegative() || idExpiration.isZero()) {
            throw new IllegalArgumentException("transactional.id.expiration.ms must be positive");
        }
        if (idExpirationCheck.isNegative() || idExpirationCheck.isZero()) {
            throw new IllegalArgumentException(
                    "transaction.remove.expired.transaction.cleanup.interval.ms must be positive");
        }
    }
}
