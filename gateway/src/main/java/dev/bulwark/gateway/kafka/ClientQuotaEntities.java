package dev.bulwark.gateway.kafka;

import dev.bulwark.acl.quota.EntityName;
import dev.bulwark.acl.quota.QuotaEntity;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.TenantStore;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.quota.ClientQuotaEntity;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which quota entity the names of a client-quota request mean, for the principal asking, and who may ask; the quota
 * counterpart of {@link ScramUserNames}, with the same role rules.
 *
 * <ul>
 *   <li>A tenant-admin names its own tenant's users and client ids plainly ({@code user=alice}; {@code alice@own}
 *       is accepted too), never another tenant's, and never an {@code ip} entity.</li>
 *   <li>An operator works in the default tenant, and names another tenant's entity with a {@code @tenant} suffix: on
 *       the user name when the entity names a user ({@code user=alice@acme, client-id=app}), otherwise on the client
 *       id ({@code client-id=app@acme}). Entities of another tenant that name neither (its default user or default
 *       client id) are managed by that tenant's admins. Only operators set {@code ip} entities, which are global.</li>
 *   <li>Anyone else gets CLUSTER_AUTHORIZATION_FAILED, as Kafka answers a principal without the cluster
 *       permission.</li>
 * </ul>
 */
public final class ClientQuotaEntities {

    /** An IPv4 or IPv6 literal: checked first so that a host name is never resolved. */
    private static final Pattern IP_LITERAL = Pattern.compile("(\\d{1,3}\\.){3}\\d{1,3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*");

    private final TenantStore tenants;

    public ClientQuotaEntities(TenantStore tenants) {
        this.tenants = tenants;
    }

    static boolean mayManageQuotas(AuthenticatedPrincipal caller) {
        return caller.role() == Role.OPERATOR || caller.role() == Role.TENANT_ADMIN;
    }

    static ClusterAuthorizationException notAuthorized() {
        return new ClusterAuthorizationException("Not authorized to manage the quotas of this entity");
    }

    /**
     * The entity that {@code parts} (entity type to name, null for the default) names for {@code caller}.
     *
     * @throws InvalidRequestException       for an empty entity, an unknown type, ip combined with user or client
     *                                       id, or an ip that is not an address
     * @throws ClusterAuthorizationException when the caller may not manage that entity
     * @throws ResourceNotFoundException     when an operator names a tenant that does not exist
     */
    QuotaEntity resolve(AuthenticatedPrincipal caller, Map<String, String> parts) {
        if (!mayManageQuotas(caller)) {
            throw notAuthorized();
        }
        if (parts.isEmpty()) {
            throw new InvalidRequestException("Invalid empty client quota entity");
        }
        for (String type : parts.keySet()) {
            if (!type.equals(ClientQuotaEntity.USER) && !type.equals(ClientQuotaEntity.CLIENT_ID)
                    && !type.equals(ClientQuotaEntity.IP)) {
                throw new InvalidRequestException("Unhandled client quota entity type: " + type);
            }
        }
        if (parts.containsKey(ClientQuotaEntity.IP)) {
            if (parts.size() > 1) {
                throw new InvalidRequestException("Invalid quota entity combination, IP entity should not be "
                        + "combined with User or ClientId entities.");
            }
            if (caller.role() != Role.OPERATOR) {
                throw notAuthorized();
            }
            String ip = parts.get(ClientQuotaEntity.IP);
            return new QuotaEntity.Ip(ip == null ? EntityName.DEFAULT : EntityName.of(normalizeAddress(ip)));
        }
        boolean hasUser = parts.containsKey(ClientQuotaEntity.USER);
        boolean hasClient = parts.containsKey(ClientQuotaEntity.CLIENT_ID);
        String user = parts.get(ClientQuotaEntity.USER);
        String clientId = parts.get(ClientQuotaEntity.CLIENT_ID);
        String tenantId = caller.tenantId();
        if (user != null) {
            UserName name = UserName.parse(user);
            tenantId = tenantOf(caller, user.indexOf('@') < 0 ? null : name.tenantName());
            user = name.user();
        } else if (clientId != null && caller.role() == Role.OPERATOR) {
            UserName name = UserName.parse(clientId);
            tenantId = tenantOf(caller, clientId.indexOf('@') < 0 ? null : name.tenantName());
            clientId = name.user();
        }
        return new QuotaEntity.Client(tenantId,
                hasUser ? (user == null ? EntityName.DEFAULT : EntityName.of(user)) : null,
                hasClient ? (clientId == null ? EntityName.DEFAULT : EntityName.of(clientId)) : null);
    }

    /**
     * How {@code entity} reads to {@code caller}, as entity type to name (null for the default); empty when the
     * caller may not see it.
     */
    Optional<Map<String, String>> display(AuthenticatedPrincipal caller, QuotaEntity entity) {
        Map<String, String> parts = new LinkedHashMap<>();
        if (entity instanceof QuotaEntity.Ip ip) {
            if (caller.role() != Role.OPERATOR) {
                return Optional.empty();
            }
            parts.put(ClientQuotaEntity.IP, ip.address().value());
            return Optional.of(parts);
        }
        if (!(entity instanceof QuotaEntity.Client client)) {
            return Optional.empty();
        }
        String suffix = "";
        if (caller.role() == Role.OPERATOR) {
            if (!client.tenantId().equals(Tenant.DEFAULT_ID)) {
                boolean named = client.user() != null && !client.user().isDefault()
                        || client.clientId() != null && !client.clientId().isDefault();
                Optional<Tenant> tenant = tenants.byId(client.tenantId());
                if (!named || tenant.isEmpty()) {
                    return Optional.empty();
                }
                suffix = "@" + tenant.get().name();
            }
        } else if (!client.tenantId().equals(caller.tenantId())) {
            return Optional.empty();
        }
        boolean suffixOnUser = client.user() != null && !client.user().isDefault();
        if (client.user() != null) {
            parts.put(ClientQuotaEntity.USER, client.user().isDefault() ? null : client.user().value() + suffix);
        }
        if (client.clientId() != null) {
            parts.put(ClientQuotaEntity.CLIENT_ID, client.clientId().isDefault() ? null
                    : client.clientId().value() + (suffixOnUser ? "" : suffix));
        }
        return Optional.of(parts);
    }

    /**
     * A user name of a filter as {@link #display} would show it to the caller: an operator's {@code alice@default}
     * is {@code alice}, a tenant-admin's {@code alice@own} is {@code alice}.
     *
     * @throws ClusterAuthorizationException when a tenant-admin names another tenant
     * @throws ResourceNotFoundException     when an operator names a tenant that does not exist
     */
    String displayedUserName(AuthenticatedPrincipal caller, String name) {
        if (name.indexOf('@') < 0) {
            return name;
        }
        UserName user = UserName.parse(name);
        String tenantId = tenantOf(caller, user.tenantName());
        return caller.role() == Role.OPERATOR && !tenantId.equals(Tenant.DEFAULT_ID) ? user.saslUsername() : user.user();
    }

    /** The tenant a {@code @tenant} suffix names for the caller (its own when there is none). */
    private String tenantOf(AuthenticatedPrincipal caller, String tenantName) {
        if (tenantName == null) {
            return caller.tenantId();
        }
        Optional<Tenant> tenant = tenants.byName(tenantName);
        if (caller.role() == Role.OPERATOR) {
            return tenant.orElseThrow(() -> new ResourceNotFoundException("No tenant named '" + tenantName + "'"))
                    .id();
        }
        if (tenant.isEmpty() || !tenant.get().id().equals(caller.tenantId())) {
            throw notAuthorized();
        }
        return caller.tenantId();
    }

    /** The canonical text of an IP address literal, so that one address is one entity however it is written. */
    static String normalizeAddress(String ip) {
        if (!IP_LITERAL.matcher(ip).matches()) {
            throw new InvalidRequestException(ip + " is not a valid IP address");
        }
        try {
            return InetAddress.getByName(ip).getHostAddress();
        } catch (UnknownHostException e) {
            throw new InvalidRequestException(ip + " is not a valid IP address");
        }
    }
}
