package dev.bulwark.auth;

/**
 * The SASL username convention: {@code alice@acme} is user {@code alice} of tenant {@code acme}; a name without
 * {@code @} belongs to the default tenant (operators, and installations without tenants).
 */
public record UserName(String user, String tenantName) {

    public static UserName parse(String saslUsername) {
        int at = saslUsername.lastIndexOf('@');
        if (at < 0) {
            return new UserName(saslUsername, Tenant.DEFAULT_NAME);
        }
        return new UserName(saslUsername.substring(0, at), saslUsername.substring(at + 1));
    }

    /** The SASL username a client logs in with. */
    public String saslUsername() {
        return Tenant.DEFAULT_NAME.equals(tenantName) ? user : user + "@" + tenantName;
    }
}
