package dev.bulwark.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The keys of a {@link ConfigMapping} interface as SmallRye names them, for tests that check documents against them. */
public final class ConfigMappingKeys {

    private ConfigMappingKeys() {
    }

    /** Every key of {@link BulwarkConfig}, with its default (see {@link #of}). */
    public static Map<String, String> bulwark() {
        return of(BulwarkConfig.class.getAnnotation(ConfigMapping.class).prefix(), BulwarkConfig.class);
    }

    /**
     * Every key of a {@link ConfigMapping} interface with its {@code @WithDefault} (or "(none)"), named as SmallRye
     * names them: kebab-case methods, nested groups as sub-prefixes, a {@code Map} as {@code prefix.name.*}.
     */
    public static Map<String, String> of(String prefix, Class<?> mapping) {
        Map<String, String> keys = new LinkedHashMap<>();
        for (Method method : mapping.getDeclaredMethods()) {
            if (method.isDefault() || Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            WithName withName = method.getAnnotation(WithName.class);
            String key = prefix + "." + (withName != null ? withName.value() : kebab(method.getName()));
            Class<?> type = method.getReturnType();
            if (Map.class.isAssignableFrom(type)) {
                keys.put(key + ".*", "");
            } else if (type.isInterface() && type.getDeclaringClass() == mapping) {
                keys.putAll(of(key, type));
            } else {
                WithDefault value = method.getAnnotation(WithDefault.class);
                keys.put(key, value == null ? "(none)" : value.value());
            }
        }
        return keys;
    }

    /** The environment variable Quarkus maps to a key: upper case, every other character an underscore. */
    public static String environmentVariable(String key) {
        return key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    private static String kebab(String methodName) {
        StringBuilder out = new StringBuilder();
        for (char c : methodName.toCharArray()) {
            if (Character.isUpperCase(c)) {
                out.append('-').append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
