package dev.bulwark.auth.store;

import dev.bulwark.auth.Role;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * A user as {@link UserStore} describes it: never its credentials' secrets, only which SCRAM mechanisms it has
 * credentials for and with how many iterations (what DescribeUserScramCredentials answers).
 *
 * @param tenantId        the tenant it belongs to
 * @param name            its name inside the tenant (the SASL username is {@code name@tenant}, or {@code name} in the
 *                        default tenant)
 * @param role            its role
 * @param createdMs       when it was created, ms since the epoch
 * @param scramIterations the iteration count of each mechanism it has a credential for; empty when it has none
 */
public record User(String tenantId, String name, Role role, long createdMs, Map<ScramMechanism, Integer> scramIterations) {

    public User {
        EnumMap<ScramMechanism, Integer> copy = new EnumMap<>(ScramMechanism.class);
        copy.putAll(scramIterations);
        scramIterations = Collections.unmodifiableMap(copy);
    }
}
