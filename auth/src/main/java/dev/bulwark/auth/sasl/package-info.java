/**
 * SASL for Kafka listeners: {@link dev.bulwark.auth.sasl.SaslMechanisms} (what a listener offers, the factory),
 * {@link dev.bulwark.auth.sasl.Authentication} (one connection's exchange),
 * {@link dev.bulwark.auth.sasl.SaslMechanismsConfig} (the setting), and the
 * {@link dev.bulwark.auth.sasl.BearerTokenValidator} hook through which OAUTHBEARER tokens are validated.
 */
package dev.bulwark.auth.sasl;
