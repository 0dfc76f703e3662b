package dev.bulwark.auth.sasl;

import dev.bulwark.auth.AuthenticatedPrincipal;

/**
 * What one exchange's callback handler learned, for {@link Authentication} to read after the SASL server returns or
 * throws: who the client claimed to be, who it is if its credentials hold, and why not if they cannot.
 * Confined to the thread evaluating the exchange.
 */
final class Attempt {

    /** The SASL username the client claimed, once a callback saw it. */
    String username;
    /** The principal the credentials belong to, set when they were found (they may still turn out wrong). */
    AuthenticatedPrincipal candidate;
    /** Set when the lookup already decided the outcome (unknown user or tenant, refused token). */
    FailureReason failure;
    /** The validator's reason for refusing a token, safe to show the client. */
    String tokenProblem;

    void fail(FailureReason reason) {
        this.failure = reason;
        this.candidate = null;
    }
}
