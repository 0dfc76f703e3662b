package dev.bulwark.gateway.network;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Tenant;
import dev.bulwark.auth.UserName;
import dev.bulwark.auth.store.TenantStore;
import dev.bulwark.auth.tls.CertificatePrincipals;
import dev.bulwark.auth.tls.CertificateReloader;
import dev.bulwark.auth.tls.ClientAuth;
import dev.bulwark.auth.tls.TlsMaterial;
import dev.bulwark.auth.tls.TlsSources;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SSLOptions;
import io.vertx.core.net.TrustOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;

/**
 * TLS on the SSL and SASL_SSL listeners: TLS 1.3 and 1.2 with AEAD suites only, the server's key and certificate
 * (swapped on every listener when its files change: new connections get the new material), client certificates
 * asked for as {@code ssl.client.auth} says, and the principal a client certificate maps to.
 */
public final class TlsTermination implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TlsTermination.class);

    private final CertificateReloader material;
    private final ClientAuth clientAuth;
    private final CertificatePrincipals principals;
    private final TenantStore tenants;
    private final List<NetServer> servers = new CopyOnWriteArrayList<>();

    private TlsTermination(TlsSources sources, ClientAuth clientAuth, CertificatePrincipals principals,
                           TenantStore tenants) {
        this.clientAuth = clientAuth;
        this.principals = principals;
        this.tenants = tenants;
        this.material = CertificateReloader.open(sources, this::reloaded);
    }

    /**
     * Loads the server's TLS material.
     *
     * @param sources    the key, certificate and trusted CA files
     * @param clientAuth whether client certificates are asked for (they verify against the trusted CAs)
     * @param principals maps a client certificate to a user name ({@code user@tenant})
     * @param tenants    resolves that name's tenant
     * @throws dev.bulwark.auth.tls.TlsMaterialException naming the file that cannot be used, and why
     */
    public static TlsTermination open(TlsSources sources, ClientAuth clientAuth, CertificatePrincipals principals,
                                      TenantStore tenants) {
        if (clientAuth != ClientAuth.NONE && sources.trust() == null) {
            throw new IllegalArgumentException("ssl.client.auth=" + clientAuth.name().toLowerCase(Locale.ROOT)
                    + " needs trusted CA certificates for client certificates (bulwark.tls.truststore-file)");
        }
        return new TlsTermination(sources, clientAuth, principals, tenants);
    }

    /** Checks the TLS files for changes every {@code interval} on {@code scheduler}. */
    public void watch(ScheduledExecutorService scheduler, Duration interval) {
        material.schedule(scheduler, interval);
    }

    @Override
    public void close() {
        material.close();
    }

    /** Makes {@code options} a TLS server's, with the current material. */
    NetServerOptions secure(NetServerOptions options) {
        options.setSsl(true).setClientAuth(switch (clientAuth) {
            case NONE -> io.vertx.core.http.ClientAuth.NONE;
            case REQUESTED -> io.vertx.core.http.ClientAuth.REQUEST;
            case REQUIRED -> io.vertx.core.http.ClientAuth.REQUIRED;
        });
        SSLOptions ssl = sslOptions(material.current());
        options.setKeyCertOptions(ssl.getKeyCertOptions()).setTrustOptions(ssl.getTrustOptions())
                .setEnabledSecureTransportProtocols(ssl.getEnabledSecureTransportProtocols());
        ssl.getEnabledCipherSuites().forEach(options::addEnabledCipherSuite);
        return options;
    }

    /** Registers a started TLS server for material updates. */
    void serving(NetServer server) {
        servers.add(server);
    }

    void stopped(NetServer server) {
        servers.remove(server);
    }

    /** Swaps new material into every TLS listener; open connections keep the session they have. */
    private void reloaded(TlsMaterial next) {
        SSLOptions ssl = sslOptions(next);
        for (NetServer server : servers) {
            server.updateSSLOptions(ssl, true).onFailure(e ->
                    LOG.error("A TLS listener could not take the reloaded certificates; it keeps the previous ones", e));
        }
        LOG.info("TLS certificates reloaded{}", next.notAfter().map(t -> " (valid until " + t + ")").orElse(""));
    }

    private static SSLOptions sslOptions(TlsMaterial material) {
        SSLOptions ssl = new SSLOptions()
                .setKeyCertOptions(KeyCertOptions.wrap(material.keyManager().orElseThrow(() ->
                        new IllegalStateException("TLS listeners need a server key and certificate"))))
                .setEnabledSecureTransportProtocols(new LinkedHashSet<>(TlsMaterial.PROTOCOLS));
        material.trustManager().ifPresent(trust -> ssl.setTrustOptions(TrustOptions.wrap(trust)));
        TlsMaterial.CIPHER_SUITES.forEach(ssl::addEnabledCipherSuite);
        return ssl;
    }

    /**
     * Who a TLS connection is without SASL: the principal its client certificate maps to, or anonymous (in the
     * default tenant) without one.
     *
     * @throws RefusedCertificateException when the certificate maps to no principal, or to a tenant that does not
     *                                     exist or is suspended
     */
    AuthenticatedPrincipal principalOf(NetSocket socket) {
        Optional<UserName> name;
        try {
            name = principals.userName(socket.sslSession());
        } catch (CertificatePrincipals.CertificatePrincipalException e) {
            throw new RefusedCertificateException(e.getMessage());
        }
        if (name.isEmpty()) {
            return AuthenticatedPrincipal.anonymous(CertificatePrincipals.MECHANISM);
        }
        Tenant tenant = tenants.byName(name.get().tenantName()).orElseThrow(() -> new RefusedCertificateException(
                "the certificate of " + name.get().saslUsername() + " names no known tenant"));
        if (tenant.state() != Tenant.State.ACTIVE) {
            throw new RefusedCertificateException("the tenant of " + name.get().saslUsername() + " is "
                    + tenant.state().name().toLowerCase(Locale.ROOT));
        }
        return CertificatePrincipals.principal(name.get(), tenant.id());
    }

    /** A client certificate that gives no usable principal: the connection is closed. */
    static final class RefusedCertificateException extends RuntimeException {
        RefusedCertificateException(String message) {
            super(message);
        }
    }
}
