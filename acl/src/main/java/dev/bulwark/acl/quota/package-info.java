/**
 * Client quotas with Kafka's semantics inside each tenant: the entities quotas are set on ({@link
 * dev.bulwark.acl.quota.QuotaEntity}) and which one applies ({@link dev.bulwark.acl.quota.QuotaSnapshot#resolve}),
 * their durable store ({@link dev.bulwark.acl.quota.QuotaStore}), and the measurement that turns usage into throttle
 * times ({@link dev.bulwark.acl.quota.QuotaManager}). The gateway records usage and applies the throttle; nothing here
 * knows of sockets.
 */
package dev.bulwark.acl.quota;
