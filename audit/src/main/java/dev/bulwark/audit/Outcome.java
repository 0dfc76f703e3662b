package dev.bulwark.audit;

/** How an audited act ended. */
public enum Outcome {
    /** Done as asked. */
    SUCCESS,
    /** Refused by authorization (an ACL, a role, a tenant boundary). */
    DENIED,
    /** Failed: wrong credentials, invalid input, or an error of the server. */
    FAILURE;

    /** The stable one-byte code the journal stores. */
    public byte code() {
        return (byte) (ordinal() + 1);
    }

    public static Outcome fromCode(byte code) {
        Outcome[] all = values();
        if (code < 1 || code > all.length) {
            throw new IllegalArgumentException("unknown outcome code " + code);
        }
        return all[code - 1];
    }
}
