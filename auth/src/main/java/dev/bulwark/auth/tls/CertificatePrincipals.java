package dev.bulwark.auth.tls;

import java.io.IOException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import org.apache.kafka.common.security.ssl.SslPrincipalMapper;

import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.auth.Role;
import dev.bulwark.auth.UserName;

/**
 * Who an mTLS client is: its certificate's subject DN (RFC 2253, as
 * {@link javax.security.auth.x500.X500Principal#getName()} writes it: {@code CN=alice,OU=acme,O=Example}) mapped by Kafka's {@code ssl.principal.mapping.rules} (kafka-clients'
 * {@link SslPrincipalMapper}; {@code DEFAULT} keeps the whole DN), then read with the SASL username convention:
 * {@code alice@acme} is user {@code alice} of tenant {@code acme}, a name without {@code @} belongs to the default
 * tenant.
 *
 * <p>With {@code RULE:^CN=([^,]+),OU=([^,]+).*$/$1@$2/,DEFAULT}, {@code CN=alice,OU=acme} is {@code alice@acme}.
 * A DN that no rule matches, a mapping that comes out empty, or a tenant part that is itself a piece of a DN (an
 * {@code EMAILADDRESS=a@b.com,CN=x} under {@code DEFAULT}) is refused: the connection does not authenticate, rather
 * than land in a tenant by accident.
 */
public final class CertificatePrincipals {

    /** The mechanism recorded for principals authenticated by a client certificate. */
    public static final String MECHANISM = "SSL";
    public static final String DEFAULT_RULES = "DEFAULT";

    private final SslPrincipalMapper mapper;
    private final String rules;

    /**
     * @param rules Kafka's {@code ssl.principal.mapping.rules}; null or blank is {@code DEFAULT}
     * @throws IllegalArgumentException naming the rule that does not parse
     */
    public CertificatePrincipals(String rules) {
        this.rules = rules == null || rules.isBlank() ? DEFAULT_RULES : rules.trim();
        try {
            this.mapper = SslPrincipalMapper.fromRules(this.rules);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ssl.principal.mapping.rules cannot be parsed: " + e.getMessage(), e);
        }
    }

    /**
     * The user and tenant of the client that presented {@code session}'s peer certificate; empty when it presented
     * none ({@code ssl.client.auth=requested}, or none): the connection is then anonymous.
     */
    public Optional<UserName> userName(SSLSession session) {
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate peer)) {
            return Optional.empty();
        }
        return Optional.of(userName(peer));
    }

    /** The user and tenant a client certificate names. */
    public UserName userName(X509Certificate peer) {
        return userName(peer.getSubjectX500Principal().getName());
    }

    /** The user and tenant of a subject DN in RFC 2253 form. */
    public UserName userName(String distinguishedName) {
        String mapped = principalName(distinguishedName);
        UserName name = UserName.parse(mapped);
        if (name.user().isEmpty() || name.tenantName().isEmpty()) {
            throw new CertificatePrincipalException("the certificate subject " + distinguishedName + " maps to '"
                    + mapped + "', which is not user or user@tenant");
        }
        if (name.tenantName().chars().anyMatch(c -> ",=+;<>\"\\".indexOf(c) >= 0 || Character.isWhitespace(c))) {
            throw new CertificatePrincipalException("the certificate subject " + distinguishedName + " maps to '"
                    + mapped + "', whose part after '@' is not a tenant name; add a rule to"
                    + " ssl.principal.mapping.rules that maps it to user@tenant");
        }
        return name;
    }

    /** {@code distinguishedName} mapped by the rules, before it is read as {@code user@tenant}. */
    public String principalName(String distinguishedName) {
        String mapped;
        try {
            mapped = mapper.getName(distinguishedName);
        } catch (IOException e) { // SslPrincipalMapper.NoMatchingRule
            throw new CertificatePrincipalException("no ssl.principal.mapping.rules rule applies to the certificate"
                    + " subject " + distinguishedName, e);
        }
        if (mapped == null || mapped.isEmpty()) {
            throw new CertificatePrincipalException("the certificate subject " + distinguishedName
                    + " maps to an empty name");
        }
        return mapped;
    }

    /**
     * The principal of an mTLS connection: a {@link Role#MEMBER} (what it may do is up to the ACLs) with no expiry
     * beyond the connection.
     *
     * @param tenantId the id of the tenant {@code name.tenantName()} names, as the tenant registry knows it
     */
    public static AuthenticatedPrincipal principal(UserName name, String tenantId) {
        return new AuthenticatedPrincipal(name.user(), tenantId, Role.MEMBER, MECHANISM, -1);
    }

    @Override
    public String toString() {
        return "CertificatePrincipals[" + rules + "]";
    }

    /** A client certificate that does not name a principal; the message may be logged and audited as it is. */
    public static final class CertificatePrincipalException extends RuntimeException {
        public CertificatePrincipalException(String message) {
            super(message);
        }

        public CertificatePrincipalException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
