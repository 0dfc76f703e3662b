/**
 * Authorization with Kafka's ACL semantics inside each tenant, and quotas. Plain Java that knows nothing of sockets:
 * the gateway asks it about principals, resources and operations.
 */
package dev.bulwark.acl;
