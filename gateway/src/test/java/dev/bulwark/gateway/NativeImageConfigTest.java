package dev.bulwark.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.gateway.cli.BulwarkCommand;
import dev.bulwark.gateway.cli.DataDirOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native image's reflection configuration (src-native/native-image, packaged under META-INF/native-image/) against
 * the code: it is on the class path where native-image looks, everything it names exists, and every class picocli
 * reflects on to build the command line (commands, their superclasses, mixins, method subcommands) is registered
 * whole, so a new subcommand cannot be forgotten until a native build fails at run time.
 */
class NativeImageConfigTest {

    private static final String REFLECT_CONFIG = "META-INF/native-image/dev.bulwark/bulwark-gateway/reflect-config.json";

    private static Map<String, JsonNode> registered;

    @BeforeAll
    static void read() throws IOException {
        try (InputStream in = NativeImageConfigTest.class.getClassLoader().getResourceAsStream(REFLECT_CONFIG)) {
            assertNotNull(in, REFLECT_CONFIG + " is not on the class path: the gateway pom packages src-native/");
            registered = new HashMap<>();
            new ObjectMapper().readTree(in).forEach(entry -> registered.put(entry.get("name").asText(), entry));
        }
    }

    @Test
    void everyRegisteredClassAndMethodExists() throws Exception {
        for (JsonNode entry : registered.values()) {
            Class<?> type = Class.forName(entry.get("name").asText(), false, getClass().getClassLoader());
            for (JsonNode method : entry.path("methods")) {
                List<Class<?>> parameters = new ArrayList<>();
                for (JsonNode parameter : method.get("parameterTypes")) {
                    parameters.add(parameterType(parameter.asText()));
                }
                Class<?>[] types = parameters.toArray(Class<?>[]::new);
                if (method.get("name").asText().equals("<init>")) {
                    assertNotNull(type.getDeclaredConstructor(types));
                } else {
                    assertNotNull(type.getDeclaredMethod(method.get("name").asText(), types));
                }
            }
        }
    }

    @Test
    void everyClassPicocliReflectsOnIsRegisteredWhole() {
        Set<String> missing = new TreeSet<>();
        for (Class<?> type : commandClasses(new CommandLine(new BulwarkCommand()).getCommandSpec(), new ArrayList<>())) {
            JsonNode entry = registered.get(type.getName());
            boolean whole = entry != null && entry.path("allDeclaredConstructors").asBoolean()
                    && entry.path("allDeclaredFields").asBoolean() && entry.path("allDeclaredMethods").asBoolean();
            if (!whole) {
                missing.add(type.getName());
            }
        }
        assertEquals(Set.of(), missing, "picocli reflects on these; register them in src-native/native-image/"
                + "reflect-config.json with allDeclaredConstructors, allDeclaredFields and allDeclaredMethods");
    }

    @Test
    void picocliFindsTheCommandClassesThisTestWalks() {
        List<Class<?>> walked = commandClasses(new CommandLine(new BulwarkCommand()).getCommandSpec(),
                new ArrayList<>());
        assertTrue(walked.contains(DataDirOptions.class) && walked.size() >= 8,
                "the walk reaches the subcommands and their mixins: " + walked);
    }

    /** The user classes behind a command and its subcommands: the command objects, their superclasses, mixins. */
    private static List<Class<?>> commandClasses(CommandSpec spec, List<Class<?>> found) {
        Object user = spec.userObject();
        Class<?> type = user instanceof Method method ? method.getDeclaringClass() : user.getClass();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            if (!found.contains(c)) {
                found.add(c);
            }
        }
        spec.mixins().values().forEach(mixin -> commandClasses(mixin, found));
        spec.subcommands().values().forEach(sub -> commandClasses(sub.getCommandSpec(), found));
        return found;
    }

    private Class<?> parameterType(String name) throws ClassNotFoundException {
        if (name.endsWith("[]")) {
            return parameterType(name.substring(0, name.length() - 2)).arrayType();
        }
        return Class.forName(name, false, getClass().getClassLoader());
    }
}
