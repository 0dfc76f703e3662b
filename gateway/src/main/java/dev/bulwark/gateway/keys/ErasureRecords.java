package dev.bulwark.gateway.keys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.storage.MetadataFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The record of crypto-shredding and tenant deletion: {@code <data-dir>/erasures}, one JSON object per line, appended
 * and forced to disk before the step it records is reported done. It names tenants by id and keys by id
 * ({@link AtRestKeyManagement#keyId}), never by anything the tenant chose, so it holds nothing that the erasure was
 * meant to remove; the audit trail turns these lines into signed evidence.
 *
 * <p>Lines: {@code {"time", "event": "tenant-keys-destroyed", "tenant", "operator", "keys": [...]}} once the keys
 * are destroyed, and {@code {"time", "event": "tenant-deleted", "tenant", "operator", "removed": {...}}} once
 * everything else the tenant held is gone.
 *
 * <p>Thread-safe: appends are serialised.
 */
public final class ErasureRecords {

    static final String FILE_NAME = "erasures";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    public ErasureRecords(Path dataDir) {
        this.file = dataDir.resolve(FILE_NAME);
    }

    public Path file() {
        return file;
    }

    /** Records that every key of a tenant was destroyed. */
    public void keysDestroyed(Instant time, String tenantId, String operator, List<String> keyIds)
            throws IOException {
        Map<String, Object> line = line(time, "tenant-keys-destroyed", tenantId, operator);
        line.put("keys", keyIds);
        append(line);
    }

    /** Records that a tenant and everything it held is gone; {@code removed} counts what went, by kind. */
    public void tenantDeleted(Instant time, String tenantId, String operator, Map<String, Integer> removed)
            throws IOException {
        Map<String, Object> line = line(time, "tenant-deleted", tenantId, operator);
        line.put("removed", removed);
        append(line);
    }

    private static Map<String, Object> line(Instant time, String event, String tenantId, String operator) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", time.toString());
        line.put("event", event);
        line.put("tenant", tenantId);
        line.put("operator", operator);
        return line;
    }

    private synchronized void append(Map<String, Object> line) throws IOException {
        byte[] bytes;
        try {
            bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IOException("an erasure record does not encode", e);
        }
        boolean created = !Files.exists(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        if (created) {
            MetadataFile.syncDirectory(file.getParent());
        }
    }
}
