/**
 * Authorization with Kafka's ACL semantics, and quotas. Plain Java that knows nothing of sockets: the gateway asks it
 * about principals, resources and operations. Empty until ACLs and quotas land; every request is allowed today.
 */
package dev.bulwark.acl;
