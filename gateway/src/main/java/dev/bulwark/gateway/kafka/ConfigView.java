package dev.bulwark.gateway.kafka;

import dev.bulwark.gateway.config.BrokerConfigs;
import dev.bulwark.storage.LogConfig;
import dev.bulwark.storage.TopicMetadata;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Topic and broker configs as DescribeConfigs and CreateTopics report them: the effective value, where it comes
 * from, and its synonyms from the most to the least specific layer, as Kafka reports them.
 */
final class ConfigView {

    /** One config as described. */
    record Described(String name, String value, ConfigSource source, ConfigType type, String documentation,
                     List<Synonym> synonyms, boolean readOnly) {
    }

    record Synonym(String name, String value, ConfigSource source) {
    }

    private static final BrokerConfigs.Source[] LAYERS = {BrokerConfigs.Source.DYNAMIC_BROKER,
            BrokerConfigs.Source.DYNAMIC_DEFAULT, BrokerConfigs.Source.STATIC, BrokerConfigs.Source.DEFAULT};

    private final BrokerConfigs broker;

    ConfigView(BrokerConfigs broker) {
        this.broker = broker;
    }

    /** A topic's configs, all of them or only {@code names} (unknown names are left out, as Kafka does). */
    List<Described> topic(TopicMetadata topic, Collection<String> names) {
        List<Described> result = new ArrayList<>();
        for (String name : selected(LogConfig.TOPIC_CONFIGS, names)) {
            ConfigDef.ConfigKey key = LogConfig.TOPIC_CONFIGS.configKeys().get(name);
            List<Synonym> synonyms = new ArrayList<>();
            String override = topic.configs().get(name);
            if (override != null) {
                synonyms.add(new Synonym(name, override, ConfigSource.TOPIC_CONFIG));
            }
            synonyms.addAll(brokerSynonyms(LogConfig.serverDefaultName(name).orElseThrow()));
            Synonym effective = synonyms.get(0);
            result.add(new Described(name, effective.value(), effective.source(), ConfigType.valueOf(key.type.name()),
                    key.documentation, synonyms, false));
        }
        return result;
    }

    /**
     * Broker configs: for a broker's own resource every setting with its effective value; for the cluster-wide
     * default resource only the dynamic defaults that are set.
     */
    List<Described> broker(boolean clusterDefault, Collection<String> names) {
        List<Described> result = new ArrayList<>();
        for (String name : selected(BrokerConfigs.DEFINITIONS, names)) {
            ConfigDef.ConfigKey key = BrokerConfigs.DEFINITIONS.configKeys().get(name);
            boolean readOnly = !BrokerConfigs.DYNAMIC.contains(name);
            ConfigType type = ConfigType.valueOf(key.type.name());
            if (clusterDefault) {
                Optional<String> value = broker.layerValue(BrokerConfigs.Source.DYNAMIC_DEFAULT, name);
                value.ifPresent(v -> result.add(new Described(name, v, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, type,
                        key.documentation, List.of(new Synonym(name, v, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)),
                        readOnly)));
                continue;
            }
            List<Synonym> synonyms = brokerSynonyms(name);
            Synonym effective = synonyms.isEmpty() ? new Synonym(name, null, ConfigSource.DEFAULT_CONFIG)
                    : synonyms.get(0);
            result.add(new Described(name, effective.value(), effective.source(), type, key.documentation, synonyms,
                    readOnly));
        }
        return result;
    }

    private List<Synonym> brokerSynonyms(String name) {
        List<Synonym> synonyms = new ArrayList<>();
        for (BrokerConfigs.Source layer : LAYERS) {
            broker.layerValue(layer, name).ifPresent(v -> synonyms.add(new Synonym(name, v, source(layer))));
        }
        return synonyms;
    }

    private static ConfigSource source(BrokerConfigs.Source layer) {
        return switch (layer) {
            case DYNAMIC_BROKER -> ConfigSource.DYNAMIC_BROKER_CONFIG;
            case DYNAMIC_DEFAULT -> ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG;
            case STATIC -> ConfigSource.STATIC_BROKER_CONFIG;
            case DEFAULT -> ConfigSource.DEFAULT_CONFIG;
        };
    }

    private static Collection<String> selected(ConfigDef def, Collection<String> names) {
        TreeSet<String> all = new TreeSet<>(def.names());
        if (names == null || names.isEmpty()) {
            return all;
        }
        all.retainAll(names);
        return all;
    }
}
