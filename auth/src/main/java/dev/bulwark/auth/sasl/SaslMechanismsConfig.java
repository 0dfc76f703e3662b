package dev.bulwark.auth.sasl;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Which SASL mechanisms a listener offers, in the order SaslHandshake lists them. Validates itself: at least one,
 * each one of {@link SaslMechanisms#SUPPORTED}, none twice.
 *
 * @param enabled mechanism names as Kafka spells them: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
 */
public record SaslMechanismsConfig(List<String> enabled) {

    public SaslMechanismsConfig {
        Objects.requireNonNull(enabled, "enabled");
        if (enabled.isEmpty()) {
            throw new IllegalArgumentException("at least one SASL mechanism must be enabled; supported: "
                    + SaslMechanisms.SUPPORTED);
        }
        for (String mechanism : enabled) {
            if (!SaslMechanisms.SUPPORTED.contains(mechanism)) {
                throw new IllegalArgumentException("unsupported SASL mechanism '" + mechanism + "'; supported: "
                        + SaslMechanisms.SUPPORTED);
            }
        }
        if (new LinkedHashSet<>(enabled).size() != enabled.size()) {
            throw new IllegalArgumentException("a SASL mechanism is listed twice: " + enabled);
        }
        enabled = List.copyOf(enabled);
    }

    /** A comma-separated list, as a setting holds it: {@code "SCRAM-SHA-512, PLAIN"}. */
    public static SaslMechanismsConfig parse(String commaSeparated) {
        return new SaslMechanismsConfig(Arrays.stream(commaSeparated.split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList());
    }

    /** PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512: everything that needs no token validator. */
    public static SaslMechanismsConfig defaults() {
        return new SaslMechanismsConfig(List.of(SaslMechanisms.PLAIN, SaslMechanisms.SCRAM_SHA_256,
                SaslMechanisms.SCRAM_SHA_512));
    }
}
