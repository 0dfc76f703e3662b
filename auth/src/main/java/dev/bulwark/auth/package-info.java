/**
 * Authentication: TLS material (PEM/PKCS12, the dev CA), SASL servers (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER), the
 * credential store, and the principal and tenant model. Plain Java, no Quarkus: the gateway wires it in. Empty until
 * TLS/SASL termination lands; every connection is anonymous today.
 */
package dev.bulwark.auth;
