package dev.bulwark.gateway.rest;

import dev.bulwark.auth.Role;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Roles as the REST API and JWT role claims spell them: {@code operator}, {@code tenant-admin}, ... */
public final class RoleNames {

    private RoleNames() {
    }

    public static String of(Role role) {
        return role.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The role spelled {@code name} exactly as {@link #of} spells it, or empty. */
    public static Optional<Role> parse(String name) {
        return Arrays.stream(Role.values()).filter(role -> of(role).equals(name)).findFirst();
    }
}
