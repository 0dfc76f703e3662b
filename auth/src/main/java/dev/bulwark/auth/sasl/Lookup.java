package dev.bulwark.auth.sasl;

import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;

import java.util.Optional;

/** Resolves SASL usernames ({@code alice@acme}) through the stores; shared by the callback handlers. */
record Lookup(TenantStore tenants, UserStore users) {

    /**
     * The tenant a username belongs to, whatever its state: a suspended tenant's users still prove their
     * credentials, and are refused only after that ({@link Authentication}), so the refusal reveals nothing to
     * someone who does not know the password.
     */
    Optional<Tenant> tenantOf(UserName name) {
        return tenants.byName(name.tenantName());
    }
}
