package dev.bulwark.gateway.config;

import dev.bulwark.storage.LogConfig;
import io.smallrye.config.ConfigMapping;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's settings tables are the user documentation of every setting: each Kafka broker setting and topic config
 * Bulwark defines, and each key of {@link BulwarkConfig}, has a row there with its real default, and no row names a
 * setting that does not exist.
 */
class ReadmeDocumentsEveryKeyTest {

    private static final String BULWARK_TABLE = "| key | environment variable | default | meaning |";
    private static final String BROKER_TABLE = "| name | default | dynamic |";
    private static final String TOPIC_TABLE = "| topic config | broker default | meaning |";

    private static String readme;
    private static Map<String, List<String>> bulwarkRows;
    private static Map<String, List<String>> brokerRows;
    private static Map<String, List<String>> topicRows;

    @BeforeAll
    static void readReadme() throws IOException {
        readme = Files.readString(repositoryRoot().resolve("README.md"));
        bulwarkRows = table(BULWARK_TABLE);
        brokerRows = table(BROKER_TABLE);
        topicRows = table(TOPIC_TABLE);
    }

    @Test
    void everyKafkaBrokerSettingHasARowWithItsDefaultAndWhetherItIsDynamic() {
        Map<String, String> documented = new TreeMap<>();
        Map<String, String> actual = new TreeMap<>();
        for (Map.Entry<String, ConfigDef.ConfigKey> e : BrokerConfigs.DEFINITIONS.configKeys().entrySet()) {
            List<String> row = brokerRows.get(e.getKey());
            documented.put(e.getKey(), row == null ? "(no row)" : row.get(1) + " | " + row.get(2));
            actual.put(e.getKey(), defaultOf(e.getValue()) + " | "
                    + (BrokerConfigs.DYNAMIC.contains(e.getKey()) ? "yes" : "no"));
        }
        assertEquals(actual, documented, "README, Kafka broker settings: name | default | dynamic");
        assertEquals(BrokerConfigs.DEFINITIONS.names(), brokerRows.keySet(), "rows for settings that do not exist");
    }

    @Test
    void everyTopicConfigHasARowNamingTheBrokerSettingThatHoldsItsDefault() {
        Map<String, String> documented = new TreeMap<>();
        Map<String, String> actual = new TreeMap<>();
        for (Map.Entry<String, ConfigDef.ConfigKey> e : LogConfig.TOPIC_CONFIGS.configKeys().entrySet()) {
            String brokerSetting = LogConfig.serverDefaultName(e.getKey()).orElseThrow();
            List<String> row = topicRows.get(e.getKey());
            List<String> brokerRow = row == null ? null : brokerRows.get(row.get(1));
            documented.put(e.getKey(), row == null ? "(no row)"
                    : row.get(1) + " = " + (brokerRow == null ? "(no broker row)" : brokerRow.get(1)));
            actual.put(e.getKey(), brokerSetting + " = " + defaultOf(e.getValue()));
        }
        assertEquals(actual, documented, "README, topic configs: the broker default named, and its default there");
        assertEquals(LogConfig.TOPIC_CONFIGS.names(), topicRows.keySet(), "rows for topic configs that do not exist");
    }

    @Test
    void everyBulwarkConfigKeyHasARowWithItsEnvironmentVariableAndDefault() {
        String prefix = BulwarkConfig.class.getAnnotation(ConfigMapping.class).prefix();
        Map<String, String> documented = new TreeMap<>();
        Map<String, String> actual = new TreeMap<>();
        for (Map.Entry<String, String> key : ConfigMappingKeys.bulwark().entrySet()) {
            if (key.getKey().endsWith(".*")) {
                String mapPrefix = key.getKey().substring(0, key.getKey().length() - 1);
                assertTrue(readme.contains("`" + mapPrefix), "README explains the settings under " + mapPrefix);
                continue;
            }
            List<String> row = bulwarkRows.get(key.getKey());
            documented.put(key.getKey(), row == null ? "(no row)" : row.get(1) + " | " + row.get(2));
            actual.put(key.getKey(), ConfigMappingKeys.environmentVariable(key.getKey()) + " | " + key.getValue());
        }
        assertTrue(actual.keySet().stream().anyMatch(k -> k.startsWith(prefix + ".storage.")),
                "the keys of nested groups are found too: " + actual.keySet());
        assertEquals(actual, documented, "README, Bulwark settings: key | environment variable | default");
    }

    @Test
    void theQuarkusKeysInTheBulwarkTableHaveTheDefaultsTheApplicationSets() throws IOException {
        Properties application = new Properties();
        try (InputStream in = BulwarkConfig.class.getResourceAsStream("/application.properties")) {
            application.load(in);
        }
        for (Map.Entry<String, List<String>> row : bulwarkRows.entrySet()) {
            if (row.getKey().startsWith("quarkus.")) {
                assertEquals(application.getProperty(row.getKey()), row.getValue().get(2), row.getKey());
                assertEquals(ConfigMappingKeys.environmentVariable(row.getKey()), row.getValue().get(1), row.getKey());
            }
        }
    }

    private static String defaultOf(ConfigDef.ConfigKey key) {
        return key.hasDefault() && key.defaultValue != null ? ConfigDef.convertToString(key.defaultValue, key.type)
                : "(none)";
    }

    // ---------------------------------------------------------------- reading the README

    /** The rows of the table under {@code header}, by their first cell, each cell without its backticks. */
    private static Map<String, List<String>> table(String header) {
        List<String> lines = readme.lines().toList();
        int start = lines.indexOf(header);
        assertTrue(start >= 0, "README has a table headed " + header);
        Map<String, List<String>> rows = new TreeMap<>();
        for (int i = start + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            List<String> cells = new ArrayList<>();
            String line = lines.get(i);
            for (String cell : line.substring(1, line.length() - 1).split("\\|", -1)) {
                cells.add(cell.trim().replace("`", ""));
            }
            assertTrue(rows.put(cells.get(0), cells) == null, "a second row for " + cells.get(0));
        }
        return rows;
    }

    /** The repository root: the first directory up from the module that has the README and the parent pom. */
    private static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("README.md")) && Files.exists(dir.resolve("gateway").resolve("pom.xml"))) {
                return dir;
            }
        }
        throw new AssertionError("no README.md above " + Path.of("").toAbsolutePath());
    }
}
