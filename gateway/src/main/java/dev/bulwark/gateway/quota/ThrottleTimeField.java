package dev.bulwark.gateway.quota;

import org.apache.kafka.common.protocol.ApiMessage;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The {@code throttle_time_ms} field of kafka-clients' generated response classes, found once per class: nearly every
 * response has one ({@code setThrottleTimeMs(int)} and {@code throttleTimeMs()}), a few have none, and those are left
 * alone. Versions that lack the field do not write it (it is ignorable in every schema that has it).
 */
public final class ThrottleTimeField {

    /** The accessors of one response class; both null when it has no throttle time. */
    private record Accessors(MethodHandle setter, MethodHandle getter) {
    }

    private static final ClassValue<Accessors> ACCESSORS = new ClassValue<>() {
        @Override
        protected Accessors computeValue(Class<?> type) {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            try {
                return new Accessors(
                        lookup.findVirtual(type, "setThrottleTimeMs", MethodType.methodType(type, int.class)),
                        lookup.findVirtual(type, "throttleTimeMs", MethodType.methodType(int.class)));
            } catch (NoSuchMethodException | IllegalAccessException e) {
                return new Accessors(null, null);
            }
        }
    };

    private ThrottleTimeField() {
    }

    /** Sets the throttle time of {@code response}; returns false when its class has no such field. */
    public static boolean set(ApiMessage response, int throttleTimeMs) {
        MethodHandle setter = ACCESSORS.get(response.getClass()).setter();
        if (setter == null) {
            return false;
        }
        try {
            setter.invoke(response, throttleTimeMs);
            return true;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot set the throttle time of " + response.getClass().getName(), e);
        }
    }

    /** The throttle time {@code response} carries, 0 when its class has no such field. */
    public static int get(ApiMessage response) {
        MethodHandle getter = ACCESSORS.get(response.getClass()).getter();
        if (getter == null) {
            return 0;
        }
        try {
            return (int) getter.invoke(response);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the throttle time of " + response.getClass().getName(), e);
        }
    }
}
