package dev.bulwark.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.bulwark.gateway.config.ConfigMappingKeys;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The container files of src-native/ against what runs them and what Bulwark reads: the image's user is the one
 * k8s/base's StatefulSet runs as, its volume is the data volume's mount path and holds the data directory, every
 * variable it sets is a setting Bulwark or Quarkus reads, and it exposes the ports it listens on.
 */
class ContainerFilesTest {

    private static final Pattern ENV_PAIR = Pattern.compile("([A-Z0-9_]+)=(\\S+)");
    private static final Pattern LISTENER_PORT = Pattern.compile("://[^:,]*:(\\d+)");
    private static final Set<String> QUARKUS_SETTINGS = Set.of("QUARKUS_HTTP_HOST", "QUARKUS_HTTP_PORT");

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile.native", "Dockerfile.jvm"})
    void theImageMatchesTheStatefulSetAndTheSettings(String file) throws IOException {
        Path root = repositoryRoot();
        Map<String, List<String>> instructions = finalStage(Files.readAllLines(root.resolve("src-native").resolve(file)));
        JsonNode pod = new YAMLMapper().readTree(root.resolve("k8s/base/statefulset.yaml").toFile())
                .at("/spec/template/spec");

        JsonNode security = pod.get("securityContext");
        List<String> users = instructions.get("USER");
        assertEquals(security.get("runAsUser").asText() + ":" + security.get("runAsGroup").asText(),
                users.get(users.size() - 1), file + ": the image runs as the pod's user");

        String dataMount = null;
        for (JsonNode mount : pod.at("/containers/0/volumeMounts")) {
            if (mount.get("name").asText().equals("data")) {
                dataMount = mount.get("mountPath").asText();
            }
        }
        assertEquals(List.of(dataMount), instructions.get("VOLUME"), file + ": the volume is the data volume's mount");

        Map<String, String> env = new LinkedHashMap<>();
        for (String line : instructions.get("ENV")) {
            Matcher pair = ENV_PAIR.matcher(line);
            while (pair.find()) {
                env.put(pair.group(1), pair.group(2));
            }
        }
        Set<String> settings = ConfigMappingKeys.bulwark().keySet().stream()
                .map(ConfigMappingKeys::environmentVariable).collect(Collectors.toSet());
        for (String name : env.keySet()) {
            assertTrue(settings.contains(name) || QUARKUS_SETTINGS.contains(name),
                    file + ": " + name + " is no setting Bulwark reads");
        }
        assertTrue(env.get("BULWARK_DATA_DIR").startsWith(dataMount + "/"), file + ": the data directory is in the volume");

        List<String> ports = new ArrayList<>();
        Matcher listener = LISTENER_PORT.matcher(env.get("BULWARK_LISTENERS"));
        while (listener.find()) {
            ports.add(listener.group(1));
        }
        ports.add(env.get("QUARKUS_HTTP_PORT"));
        assertEquals(ports, List.of(String.join(" ", instructions.get("EXPOSE")).split(" ")),
                file + ": it exposes exactly the ports it listens on");
        assertTrue(instructions.containsKey("ENTRYPOINT") && !instructions.containsKey("CMD"),
                file + ": no arguments, so the entrypoint serves");
    }

    /** The instructions of the last stage, continuation lines joined, by keyword. */
    private static Map<String, List<String>> finalStage(List<String> lines) {
        Map<String, List<String>> instructions = new LinkedHashMap<>();
        StringBuilder current = new StringBuilder();
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            current.append(line.strip());
            if (current.toString().endsWith("\\")) {
                current.setLength(current.length() - 1);
                current.append(' ');
                continue;
            }
            String[] instruction = current.toString().split("\\s+", 2);
            current.setLength(0);
            if (instruction[0].equals("FROM")) {
                instructions.clear();
            }
            instructions.computeIfAbsent(instruction[0], k -> new ArrayList<>()).add(instruction[1]);
        }
        return instructions;
    }

    private static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("src-native"))) {
                return dir;
            }
        }
        throw new AssertionError("no src-native above " + Path.of("").toAbsolutePath());
    }
}
