package dev.bulwark.acl.quota;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.OptionalDouble;

/** The quota values set on one entity; a kind that is absent is unlimited there. Immutable. */
public final class QuotaLimits {

    public static final QuotaLimits NONE = new QuotaLimits(new EnumMap<>(QuotaKind.class));

    private final Map<QuotaKind, Double> values;

    private QuotaLimits(EnumMap<QuotaKind, Double> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * @throws IllegalArgumentException for a value that is not a positive finite number, as Kafka refuses them
     */
    public static QuotaLimits of(Map<QuotaKind, Double> values) {
        EnumMap<QuotaKind, Double> copy = new EnumMap<>(QuotaKind.class);
        values.forEach((kind, value) -> {
            validate(kind, value);
            copy.put(kind, value);
        });
        return new QuotaLimits(copy);
    }

    static void validate(QuotaKind kind, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(kind.configName() + " must be a positive number, not " + value);
        }
    }

    public OptionalDouble get(QuotaKind kind) {
        Double value = values.get(kind);
        return value == null ? OptionalDouble.empty() : OptionalDouble.of(value);
    }

    /** These limits with {@code kind} set to {@code value}, or removed when {@code value} is null. */
    public QuotaLimits with(QuotaKind kind, Double value) {
        EnumMap<QuotaKind, Double> copy = new EnumMap<>(QuotaKind.class);
        copy.putAll(values);
        if (value == null) {
            copy.remove(kind);
        } else {
            validate(kind, value);
            copy.put(kind, value);
        }
        return new QuotaLimits(copy);
    }

    public Map<QuotaKind, Double> asMap() {
        return values;
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof QuotaLimits limits && limits.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
