package dev.bulwark.audit;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AuditEventCodecTest {

    @Test
    void everyFieldRoundTripsNullsAndNonAsciiIncluded() {
        AuditEvent full = new AuditEvent(1_700_000_000_123L, "t-1", "zoë@acme", "[::1]:5123", "kcat/1.7.1",
                "SASL_SSL", "acl.add", "topic:patiënt-vitals", Outcome.DENIED, "no ACL allows ALTER",
                Map.of("b", "2", "a", "1"));
        AuditEvent bare = new AuditEvent(0, null, null, null, null, null, "server.start", null, Outcome.SUCCESS, null,
                null);

        assertEquals(full, AuditEventCodec.decode(ByteBuffer.wrap(AuditEventCodec.encode(full))));
        assertEquals(bare, AuditEventCodec.decode(ByteBuffer.wrap(AuditEventCodec.encode(bare))));
        assertEquals("[a, b]", full.details().keySet().toString(), "details are ordered by key");
    }

    @Test
    void bytesThatAreNotAnEventAreRefused() {
        byte[] event = AuditEventCodec.encode(new AuditEvent(1, null, "p", null, null, null, "a", null,
                Outcome.SUCCESS, null, Map.of()));
        assertThrows(IllegalArgumentException.class,
                () -> AuditEventCodec.decode(ByteBuffer.wrap(Arrays.copyOf(event, event.length - 3))));
        byte[] unknownVersion = event.clone();
        unknownVersion[0] = 9;
        assertThrows(IllegalArgumentException.class, () -> AuditEventCodec.decode(ByteBuffer.wrap(unknownVersion)));
        byte[] trailing = Arrays.copyOf(event, event.length + 1);
        assertThrows(IllegalArgumentException.class, () -> AuditEventCodec.decode(ByteBuffer.wrap(trailing)));
    }
}
