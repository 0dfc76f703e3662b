package dev.bulwark.gateway.health;

import dev.bulwark.gateway.audit.AuditTrail;
import dev.bulwark.storage.crypto.Keyring;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a running broker needs to serve everything, checked on demand: the data directory takes writes, the keyring
 * takes new keys, the audit journal takes entries (without it, administrative changes are refused). Storage
 * recovery and bound listeners are implied: the broker runs only once both are done.
 */
public final class BrokerHealth {

    /** One part's state: up, or why not. */
    public record Part(boolean up, String detail) {
    }

    private final StorageProbe storage;
    private final Keyring keyring;
    private final AuditTrail audit;

    public BrokerHealth(StorageProbe storage, Keyring keyring, AuditTrail audit) {
        this.storage = storage;
        this.keyring = keyring;
        this.audit = audit;
    }

    /** Each part by name, in a fixed order. */
    public Map<String, Part> readiness() {
        Map<String, Part> parts = new LinkedHashMap<>();
        parts.put("listeners", new Part(true, "bound; storage recovered"));
        Optional<String> storageFailure = storage.failure();
        parts.put("storage", storageFailure.map(reason -> new Part(false, reason))
                .orElse(new Part(true, "writable")));
        parts.put("keys", keyring.acceptsChanges() ? new Part(true, "loaded")
                : new Part(false, "the keyring refuses changes since a write failed; restart to reopen it"));
        parts.put("audit", audit.writable() ? new Part(true, "writable")
                : new Part(false, "the audit journal failed a write; administrative changes are refused"));
        return parts;
    }
}
