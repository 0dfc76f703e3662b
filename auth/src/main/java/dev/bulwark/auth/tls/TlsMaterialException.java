package dev.bulwark.auth.tls;

/**
 * TLS material that cannot be used: a missing or unreadable file, a file that holds something else than expected, a
 * wrong password, a key that does not belong to its certificate. The message names the file and what is wrong, so it
 * can be shown to an operator as it is.
 */
public class TlsMaterialException extends RuntimeException {

    public TlsMaterialException(String message) {
        super(message);
    }

    public TlsMaterialException(String message, Throwable cause) {
        super(message, cause);
    }
}
