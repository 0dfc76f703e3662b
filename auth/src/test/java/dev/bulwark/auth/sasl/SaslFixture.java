package dev.bulwark.auth.sasl;

import dev.bulwark.auth.MutableClock;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.TestSealedFiles;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.store.UserStore;
import dev.bulwark.storage.SealedFiles;
import dev.bulwark.storage.crypto.CryptoProvider;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Stores with a tenant {@code acme} holding {@code alice} (member) and {@code boss} (tenant-admin), an operator
 * {@code root} in the default tenant, and the {@link SaslMechanisms} over them; plus the plumbing that plays a
 * kafka-clients SASL client against an {@link Authentication}.
 */
final class SaslFixture {

    static final String ALICE_PASSWORD = "alice-secret";
    static final String BOSS_PASSWORD = "boss-secret";
    static final String ROOT_PASSWORD = "root-secret";

    final MutableClock clock = new MutableClock();
    final TenantStore tenants;
    final UserStore users;
    final Tenant acme;

    SaslFixture(Path dir) throws IOException {
        SealedFiles sealed = TestSealedFiles.in(dir);
        tenants = TenantStore.open(dir.resolve("tenants"), sealed, clock);
        users = UserStore.open(dir.resolve("users"), sealed, 4096, CryptoProvider.jdk(), clock);
        acme = tenants.create("acme");
        users.create(acme.id(), "alice", Role.MEMBER, ALICE_PASSWORD);
        users.create(acme.id(), "boss", Role.TENANT_ADMIN, BOSS_PASSWORD);
        users.bootstrapOperator("root:" + ROOT_PASSWORD);
    }

    SaslMechanisms mechanisms(BearerTokenValidator validator) {
        return new SaslMechanisms(new SaslMechanismsConfig(SaslMechanisms.SUPPORTED), tenants, users, validator,
                clock);
    }

    SaslMechanisms mechanisms() {
        return mechanisms(token -> {
            throw new InvalidTokenException("no tokens in this test");
        });
    }

    /**
     * Runs a whole exchange: the client's initial response, then challenge and response until the server
     * completes. Returns the last server answer (already checked by the client, e.g. SCRAM's server signature).
     */
    static byte[] exchange(SaslClient client, Authentication server) throws SaslException {
        byte[] response = client.hasInitialResponse() ? client.evaluateChallenge(new byte[0]) : new byte[0];
        while (true) {
            byte[] challenge = server.evaluate(response);
            if (server.isComplete()) {
                if (!client.isComplete()) {
                    client.evaluateChallenge(challenge);
                }
                return challenge;
            }
            response = client.evaluateChallenge(challenge);
        }
    }

    /** The client side of a username/password login, as a JAAS login module would supply it. */
    static CallbackHandler credentials(String username, String password) {
        return callbacks -> {
            for (Callback callback : callbacks) {
                if (callback instanceof NameCallback name) {
                    name.setName(username);
                } else if (callback instanceof PasswordCallback pw) {
                    pw.setPassword(password.toCharArray());
                } else {
                    throw new UnsupportedCallbackException(callback);
                }
            }
        };
    }
}
