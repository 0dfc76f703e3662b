package dev.bulwark.gateway.rest;

import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.sasl.SaslMechanisms;
import dev.bulwark.auth.store.User;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.gateway.Security;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.core.UriInfo;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.jboss.resteasy.reactive.RestResponse;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /api/v1/tenants/{tenant}/users}: the principals of a tenant, managed by operators and by the tenant's
 * tenant-admins ({@link TenantAccess}). A user created here logs in over SASL as {@code name@tenant} (PLAIN,
 * SCRAM-SHA-256, SCRAM-SHA-512) and to this API with HTTP Basic; inside its tenant it is {@code User:name}.
 * Passwords are never kept or shown, only the SCRAM credentials derived from them.
 */
@Path("/api/v1/tenants/{tenant}/users")
@Produces(MediaType.APPLICATION_JSON)
public class UsersResource {

    @Inject
    BulwarkLifecycle lifecycle;

    /**
     * The body of {@code POST}: {@code role} is {@code member} (when absent), {@code tenant-admin} or {@code auditor};
     * operators are made only by {@code bulwark.operator}.
     */
    public record NewUser(String name, String password, String role) {
        @Override
        public String toString() {
            return "NewUser[" + name + ", " + role + "]";
        }
    }

    /**
     * A user as the API shows it.
     *
     * @param saslUsername what it logs in with: {@code name@tenant}, or {@code name} in the default tenant
     * @param mechanisms   the SASL mechanisms its credentials serve (PLAIN is checked against a SCRAM credential);
     *                     which ones a listener offers is {@code sasl.enabled.mechanisms}
     */
    public record UserView(String name, String tenant, String role, String saslUsername, String createdAt,
                           List<String> mechanisms) {
        static UserView of(User user, Tenant tenant) {
            List<String> mechanisms = new ArrayList<>();
            if (!user.scramIterations().isEmpty()) {
                mechanisms.add(SaslMechanisms.PLAIN);
            }
            user.scramIterations().keySet().stream().map(ScramMechanism::mechanismName).sorted()
                    .forEach(mechanisms::add);
            return new UserView(user.name(), tenant.name(), RoleNames.of(user.role()),
                    new UserName(user.name(), tenant.name()).saslUsername(),
                    Instant.ofEpochMilli(user.createdMs()).toString(), mechanisms);
        }
    }

    @Audited(action = "user.create", resource = "user:{tenant}/{location}")
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public RestResponse<UserView> create(@PathParam("tenant") String tenantName, NewUser body,
                                         @Context SecurityContext auth, @Context UriInfo uri) throws IOException {
        Security security = security();
        Tenant tenant = new TenantAccess(security.tenants()).toManageUsers(Caller.of(auth), tenantName);
        if (body == null || body.name() == null || body.password() == null) {
            throw new BadRequestException("the body must be {\"name\": \"...\", \"password\": \"...\", \"role\": "
                    + "\"member\" | \"tenant-admin\" | \"auditor\"}");
        }
        Role role = role(body.role());
        User user;
        try {
            user = security.users().create(tenant.id(), body.name(), role, body.password());
        } catch (UnacceptableCredentialException e) {
            throw new BadRequestException(e.getMessage());
        } catch (DuplicateResourceException e) {
            throw new ClientErrorException("user " + body.name() + " already exists in tenant " + tenant.name(),
                    Response.Status.CONFLICT);
        }
        return RestResponse.ResponseBuilder.<UserView>created(uri.getAbsolutePathBuilder().path(user.name()).build())
                .entity(UserView.of(user, tenant)).build();
    }

    @GET
    public List<UserView> list(@PathParam("tenant") String tenantName, @Context SecurityContext auth) {
        Security security = security();
        Tenant tenant = new TenantAccess(security.tenants()).toManageUsers(Caller.of(auth), tenantName);
        return security.users().list(tenant.id()).stream().map(user -> UserView.of(user, tenant)).toList();
    }

    @GET
    @Path("/{user}")
    public UserView get(@PathParam("tenant") String tenantName, @PathParam("user") String name,
                        @Context SecurityContext auth) {
        Security security = security();
        Tenant tenant = new TenantAccess(security.tenants()).toManageUsers(Caller.of(auth), tenantName);
        return security.users().get(tenant.id(), name).map(user -> UserView.of(user, tenant))
                .orElseThrow(() -> noSuchUser(name, tenant));
    }

    /**
     * Deletes a user and its credentials. Kafka connections it already authenticated keep their principal until they
     * close or re-authenticate ({@code connections.max.reauth.ms}).
     */
    @Audited(action = "user.delete", resource = "user:{tenant}/{user}")
    @DELETE
    @Path("/{user}")
    public void delete(@PathParam("tenant") String tenantName, @PathParam("user") String name,
                       @Context SecurityContext auth) throws IOException {
        Security security = security();
        Caller caller = Caller.of(auth);
        TenantAccess access = new TenantAccess(security.tenants());
        Tenant tenant = access.toManageUsers(caller, tenantName);
        access.checkDeletable(caller, tenant, name);
        try {
            security.users().delete(tenant.id(), name);
        } catch (ResourceNotFoundException e) {
            throw noSuchUser(name, tenant);
        }
    }

    private static Role role(String name) {
        if (name == null) {
            return Role.MEMBER;
        }
        Role role = RoleNames.parse(name).orElseThrow(() -> new BadRequestException(
                "role must be member, tenant-admin or auditor"));
        if (role == Role.OPERATOR) {
            throw new BadRequestException("operators are not created through the API; bulwark.operator "
                    + "(BULWARK_OPERATOR) creates one at start");
        }
        return role;
    }

    private static NotFoundException noSuchUser(String name, Tenant tenant) {
        return new NotFoundException("no user " + name + " in tenant " + tenant.name());
    }

    private Security security() {
        return lifecycle.security().orElseThrow(() -> new ServiceUnavailableException("starting"));
    }
}
