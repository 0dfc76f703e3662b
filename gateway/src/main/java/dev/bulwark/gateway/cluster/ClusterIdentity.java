package dev.bulwark.gateway.cluster;

import dev.bulwark.storage.MetadataFile;
import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Who this broker is: the cluster id, chosen at the first start and kept in the data directory (clients compare it
 * across reconnects), and the node id.
 */
public record ClusterIdentity(String clusterId, int nodeId) {

    private static final int FILE_MAGIC = 0x42574349; // "BWCI"
    private static final byte FILE_VERSION = 1;

    public static ClusterIdentity loadOrCreate(Path file, int nodeId) throws IOException {
        Optional<MetadataFile.Content> content = MetadataFile.read(file, FILE_MAGIC);
        if (content.isPresent()) {
            byte[] id = new byte[content.get().payload().remaining()];
            content.get().payload().get(id);
            return new ClusterIdentity(new String(id, StandardCharsets.UTF_8), nodeId);
        }
        String clusterId = Uuid.randomUuid().toString();
        MetadataFile.write(file, FILE_MAGIC, FILE_VERSION, clusterId.getBytes(StandardCharsets.UTF_8));
        return new ClusterIdentity(clusterId, nodeId);
    }
}
