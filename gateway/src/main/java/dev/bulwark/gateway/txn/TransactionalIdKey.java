package dev.bulwark.gateway.txn;

/**
 * A transactional id as the transaction coordinator knows it: the tenant it belongs to and the id its producers chose.
 * The same transactional id in two tenants is two transactional ids, and one tenant's producers can never fence or see
 * another's.
 */
public record TransactionalIdKey(String tenantId, String transactionalId) {

    @Override
    public String toString() {
        return transactionalId + " (tenant " + tenantId + ")";
    }
}
