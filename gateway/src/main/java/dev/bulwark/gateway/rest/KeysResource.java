package dev.bulwark.gateway.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.gateway.BulwarkLifecycle;
import dev.bulwark.gateway.keys.AtRestKeyManagement;
import dev.bulwark.storage.crypto.KeyDestroyedException;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.KeyUnwrapException;
import dev.bulwark.storage.crypto.Keyring;
import dev.bulwark.storage.crypto.MasterKeyException;
import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.InternalServerErrorException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.ServiceUnavailableException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.util.List;

/**
 * {@code /api/v1/keys}: the keys of encryption at rest that belong to no tenant, operators only: the broker's own
 * key-encryption key ({@code system}, shown, not rotated: see {@link AtRestKeyManagement#rotate}) and the rotation of
 * the master key ({@link AtRestKeyManagement}); a tenant's are {@link TenantKeysResource}'s. Nothing here shows key material: a key is named
 * by its id. Every change is durable before it is answered.
 */
@Path("/api/v1/keys")
@Produces(MediaType.APPLICATION_JSON)
public class KeysResource {

    private static final String MASTER_SHAPE = "the body must be {\"newMasterKeyFile\": \"/absolute/path\"}: a file "
            + "the server can read holding the new 256-bit master key, raw or base64";

    @Inject
    BulwarkLifecycle lifecycle;

    @Inject
    StrictBodies strict;

    /** A key-encryption key version, by id. */
    public record KeyView(int version, String keyId) {
    }

    /**
     * An owner's keys: {@code owner} the tenant id (or {@code $system}), {@code currentVersion} null when it has none
     * (never used, or shredded), {@code keys} the versions held, oldest first, every version below
     * {@code destroyedBelow} destroyed.
     */
    public record KeysView(String owner, String masterKeyId, Integer currentVersion, List<KeyView> keys,
                           int destroyedBelow, boolean shredded) {

        static KeysView of(KeyOwner owner, AtRestKeyManagement management) {
            Keyring.Versions versions = management.versions(owner).orElse(new Keyring.Versions(List.of(), 1));
            List<KeyView> keys = versions.live().stream()
                    .map(version -> new KeyView(version, AtRestKeyManagement.keyId(owner, version))).toList();
            Integer current = keys.isEmpty() ? null : keys.get(keys.size() - 1).version();
            return new KeysView(owner.id(), management.masterKeyId(), current, keys, versions.destroyedBelow(),
                    versions.shredded());
        }
    }

    /** What a rotation did: the version now current, the segment headers rewritten, the key ids destroyed. */
    public record RotationView(String owner, int currentVersion, int rewrappedSegments, List<String> destroyedKeyIds) {
        static RotationView of(AtRestKeyManagement.Rotation rotation) {
            return new RotationView(rotation.owner().id(), rotation.version(), rotation.rewrapped(),
                    rotation.destroyed());
        }
    }

    /**
     * The body of {@code POST /api/v1/keys/master/rotate}, read strictly; registered for reflection, since StrictBodies
     * reads it from a JsonNode, where the native image cannot trace it.
     */
    @RegisterForReflection
    public record NewMasterKey(String newMasterKeyFile) {
    }

    /** The master key before and after a rotation. */
    public record MasterRotationView(String previousMasterKeyId, String masterKeyId) {
    }

    @GET
    @Path("/system")
    public KeysView systemKeys(@Context SecurityContext auth) {
        access().requireOperator(Caller.of(auth), "read the broker's keys");
        return KeysView.of(KeyOwner.SYSTEM, management());
    }

    /**
     * Rewraps every key-encryption key under the master key in the file the body names. The key is read from a file
     * the server can read, never taken from the request, so that it is in no request body, proxy, log or shell
     * history; it is the file the server must be configured with before its next start.
     */
    @Audited(action = "key.rotate-master", resource = "master-key:current")
    @POST
    @Path("/master/rotate")
    @Consumes(MediaType.APPLICATION_JSON)
    public MasterRotationView rotateMaster(JsonNode body, @Context SecurityContext auth) throws IOException {
        access().requireOperator(Caller.of(auth), "rotate the master key");
        NewMasterKey request = strict.read(body, NewMasterKey.class, MASTER_SHAPE);
        java.nio.file.Path file = absolutePath(request.newMasterKeyFile());
        AtRestKeyManagement management = management();
        String previous = management.masterKeyId();
        try {
            return new MasterRotationView(previous, management.rotateMaster(file));
        } catch (MasterKeyException e) {
            throw new BadRequestException(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ClientErrorException(e.getMessage(), Response.Status.CONFLICT);
        } catch (KeyUnwrapException e) {
            throw new InternalServerErrorException("the new master key does not unwrap what it wrapped; nothing was "
                    + "changed: " + e.getMessage());
        }
    }

    private static java.nio.file.Path absolutePath(String name) {
        if (name == null || name.isBlank()) {
            throw new BadRequestException(MASTER_SHAPE);
        }
        java.nio.file.Path file;
        try {
            file = java.nio.file.Path.of(name);
        } catch (InvalidPathException e) {
            throw new BadRequestException("newMasterKeyFile is not a path: " + e.getMessage());
        }
        // A relative path would be resolved against the server's working directory, which the operator may not know.
        if (!file.isAbsolute()) {
            throw new BadRequestException("newMasterKeyFile must be an absolute path, not " + name);
        }
        return file;
    }

    /** Rotates {@code owner}'s key; 409 when it was shredded or a partition of it is offline. */
    static RotationView rotate(AtRestKeyManagement management, KeyOwner owner) throws IOException {
        try {
            return RotationView.of(management.rotate(owner));
        } catch (KeyDestroyedException | AtRestKeyManagement.RotationIncompleteException e) {
            throw new ClientErrorException(e.getMessage(), Response.Status.CONFLICT);
        }
    }

    private TenantAccess access() {
        return new TenantAccess(tenants());
    }

    private TenantStore tenants() {
        return lifecycle.security().orElseThrow(() -> new ServiceUnavailableException("starting")).tenants();
    }

    private AtRestKeyManagement management() {
        return management(lifecycle);
    }

    static AtRestKeyManagement management(BulwarkLifecycle lifecycle) {
        return lifecycle.keys().orElseThrow(() -> new ServiceUnavailableException("starting"));
    }
}
