package dev.bulwark.gateway.network;

import org.apache.kafka.common.security.auth.SecurityProtocol;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Kafka listener from {@code bulwark.listeners}: {@code NAME://host:port}, where the name is the security
 * protocol, as in Kafka's default listener map.
 */
public record ListenerSpec(String name, SecurityProtocol securityProtocol, String host, int port) {

    private static final Pattern LISTENER = Pattern.compile("^([A-Za-z0-9_]+)://(\\[[0-9a-fA-F:.]*]|[^:/\\s]*):(\\d+)$");

    /**
     * Parses a comma-separated listener list.
     *
     * @throws IllegalArgumentException naming the faulty entry
     */
    public static List<ListenerSpec> parseList(String value) {
        List<ListenerSpec> specs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String raw : value.split(",")) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            Matcher m = LISTENER.matcher(entry);
            if (!m.matches()) {
                throw new IllegalArgumentException("Listener '" + entry + "' is not of the form PROTOCOL://host:port");
            }
            String name = m.group(1).toUpperCase(Locale.ROOT);
            SecurityProtocol protocol;
            try {
                protocol = SecurityProtocol.forName(name);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Listener '" + entry + "': unknown security protocol " + name
                        + " (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)");
            }
            int port = Integer.parseInt(m.group(3));
            if (port > 65535) {
                throw new IllegalArgumentException("Listener '" + entry + "': port out of range");
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException("Listener name " + name + " appears twice");
            }
            String host = m.group(2).startsWith("[") ? m.group(2).substring(1, m.group(2).length() - 1) : m.group(2);
            specs.add(new ListenerSpec(name, protocol, host.isEmpty() ? "0.0.0.0" : host, port));
        }
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("No listener configured");
        }
        return specs;
    }

    @Override
    public String toString() {
        return name + "://" + host + ":" + port;
    }
}
