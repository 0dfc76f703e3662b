package dev.bulwark.audit;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The binary form of an {@link AuditEvent}, which the journal seals:
 * <pre>
 * i8 format version (1), i64 time ms, string tenant id, string principal, string client address,
 * string client software, string listener, string action, string resource, i8 outcome code, string reason,
 * i32 detail count, then per detail string key, string value
 * </pre>
 * A string is an i32 byte length (-1 for null) and its UTF-8 bytes.
 */
public final class AuditEventCodec {

    static final byte VERSION = 1;

    private AuditEventCodec() {
    }

    public static byte[] encode(AuditEvent event) {
        List<byte[]> strings = new ArrayList<>();
        int size = 1 + 8 + 1 + 4;
        for (String s : new String[] {event.tenantId(), event.principal(), event.clientAddress(),
            event.clientSoftware(), event.listener(), event.action(), event.resource(), event.reason()}) {
            byte[] bytes = s == null ? null : s.getBytes(StandardCharsets.UTF_8);
            strings.add(bytes);
            size += 4 + (bytes == null ? 0 : bytes.length);
        }
        List<byte[]> details = new ArrayList<>();
        for (Map.Entry<String, String> e : event.details().entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] value = e.getValue() == null ? null : e.getValue().getBytes(StandardCharsets.UTF_8);
            details.add(key);
            details.add(value);
            size += 8 + key.length + (value == null ? 0 : value.length);
        }
        ByteBuffer out = ByteBuffer.allocate(size).put(VERSION).putLong(event.timeMs());
        for (int i = 0; i < 7; i++) {
            put(out, strings.get(i));
        }
        out.put(event.outcome().code());
        put(out, strings.get(7));
        out.putInt(details.size() / 2);
        details.forEach(bytes -> put(out, bytes));
        return out.array();
    }

    /**
     * @throws IllegalArgumentException when the bytes are not an event of a known version
     */
    public static AuditEvent decode(ByteBuffer in) {
        try {
            byte version = in.get();
            if (version != VERSION) {
                throw new IllegalArgumentException("unknown audit event format version " + version);
            }
            long time = in.getLong();
            String tenant = string(in);
            String principal = string(in);
            String address = string(in);
            String software = string(in);
            String listener = string(in);
            String action = string(in);
            String resource = string(in);
            Outcome outcome = Outcome.fromCode(in.get());
            String reason = string(in);
            int count = in.getInt();
            if (count < 0 || count > in.remaining() / 8) {
                throw new IllegalArgumentException("an audit event claims " + count + " details");
            }
            Map<String, String> details = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                details.put(string(in), string(in));
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException("an audit event has " + in.remaining() + " trailing bytes");
            }
            return new AuditEvent(time, tenant, principal, address, software, listener, action, resource, outcome,
                    reason, details);
        } catch (BufferUnderflowException | NullPointerException e) {
            throw new IllegalArgumentException("an audit event is cut short or lacks its action", e);
        }
    }

    private static void put(ByteBuffer out, byte[] bytes) {
        if (bytes == null) {
            out.putInt(-1);
        } else {
            out.putInt(bytes.length).put(bytes);
        }
    }

    private static String string(ByteBuffer in) {
        int length = in.getInt();
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("an audit event string claims " + length + " bytes");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
