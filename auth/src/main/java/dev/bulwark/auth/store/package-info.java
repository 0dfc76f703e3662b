/**
 * Durable tenants and users: {@link dev.bulwark.auth.store.TenantStore} and {@link dev.bulwark.auth.store.UserStore},
 * each one {@link dev.bulwark.storage.SealedFiles} file (sealed under the broker's key, checksummed, replaced
 * atomically) in a directory of its own choosing.
 */
package dev.bulwark.auth.store;
