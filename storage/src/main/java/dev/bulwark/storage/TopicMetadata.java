package dev.bulwark.storage;

import dev.bulwark.storage.crypto.KeyOwner;
import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A topic as stored: its id, the opaque id of the tenant owning it, its name (unique within the tenant, opaque to
 * storage), its partition count and its config overrides.
 *
 * <p>File format: a {@link SealedFiles} file, version 3, sealed under the key of the topic's tenant with the topic
 * id as context (so that crypto-shredding the tenant erases its topic names too, and one topic's metadata does not
 * open in another's directory). The sealed payload: UTF-8 tenant id (i16 length + bytes), UTF-8 name (i16 length +
 * bytes), i64 id high bits, i64 id low bits, i32 partition count, i32 override count, then per override: UTF-8 key,
 * UTF-8 value (i32 length + bytes). Versions 1 and 2 were this payload in the clear and are refused: no released
 * version wrote them.
 */
public record TopicMetadata(Uuid id, String tenantId, String name, int partitions, Map<String, String> configs) {

    /** The tenant of topics whose creator named no tenant (and of every topic written before tenants existed). */
    public static final String DEFAULT_TENANT_ID = "default";

    static final int FILE_MAGIC = 0x42575450; // "BWTP"
    static final byte FILE_VERSION = 3;

    public TopicMetadata {
        configs = Collections.unmodifiableMap(new TreeMap<>(configs));
    }

    TopicMetadata withPartitions(int count) {
        return new TopicMetadata(id, tenantId, name, count, configs);
    }

    TopicMetadata withConfigs(Map<String, String> overrides) {
        return new TopicMetadata(id, tenantId, name, partitions, overrides);
    }

    /** The key owner whose key seals this topic's metadata and partitions: its tenant. */
    KeyOwner owner() {
        return KeyOwner.tenant(tenantId);
    }

    void write(SealedFiles files, Path path) throws IOException {
        byte[] tenantBytes = tenantId.getBytes(StandardCharsets.UTF_8);
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        int size = 2 + tenantBytes.length + 2 + nameBytes.length + 16 + 8;
        for (Map.Entry<String, String> e : configs.entrySet()) {
            size += 8 + utf8(e.getKey()).length + utf8(e.getValue()).length;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.putShort((short) tenantBytes.length).put(tenantBytes);
        buffer.putShort((short) nameBytes.length).put(nameBytes);
        buffer.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        buffer.putInt(partitions).putInt(configs.size());
        for (Map.Entry<String, String> e : configs.entrySet()) {
            putString(buffer, e.getKey());
            putString(buffer, e.getValue());
        }
        files.write(path, FILE_MAGIC, FILE_VERSION, owner(), id.toString(), buffer.array());
    }

    /**
     * The metadata of topic {@code id} in {@code path}.
     *
     * @throws SealedFiles.SealedFileException when it does not open (its tenant's keys destroyed, changed bytes,
     *                                         another topic's file) or is an unsealed format
     */
    static TopicMetadata read(SealedFiles files, Path path, Uuid id) throws IOException {
        SealedFiles.Opened opened = files.readAnyOwner(path, FILE_MAGIC, FILE_VERSION, id.toString())
                .orElseThrow(() -> new IOException(path + " does not exist"));
        ByteBuffer buffer = opened.payload();
        byte[] tenantBytes = new byte[buffer.getShort()];
        buffer.get(tenantBytes);
        String tenantId = new String(tenantBytes, StandardCharsets.UTF_8);
        byte[] nameBytes = new byte[buffer.getShort()];
        buffer.get(nameBytes);
        Uuid storedId = new Uuid(buffer.getLong(), buffer.getLong());
        int partitions = buffer.getInt();
        int count = buffer.getInt();
        Map<String, String> configs = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            configs.put(getString(buffer), getString(buffer));
        }
        TopicMetadata topic = new TopicMetadata(storedId, tenantId, new String(nameBytes, StandardCharsets.UTF_8),
                partitions, configs);
        if (!storedId.equals(id) || !opened.owner().equals(topic.owner())) {
            // Unreachable without a bug: the seal binds the id, and a tenant's data key opens under its tenant only.
            throw new IOException(path + ": the metadata of topic " + storedId + " of tenant " + tenantId
                    + " sealed under the key of " + opened.owner() + " in the directory of topic " + id);
        }
        return topic;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void putString(ByteBuffer buffer, String s) {
        byte[] bytes = utf8(s);
        buffer.putInt(bytes.length).put(bytes);
    }

    private static String getString(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getInt()];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
