package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.Outcome;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** One file's index: its codes and masks, its snapshots, and the sidecar format, pinned byte for byte. */
class FileIndexTest {

    private static AuditEvent event(long time, String tenant, String principal, String action, String resource,
                                    Outcome outcome) {
        return new AuditEvent(time, tenant, principal, null, null, null, action, resource, outcome, null, Map.of());
    }

    private static FileIndex twoEntries() {
        FileIndexBuilder builder = new FileIndexBuilder(7, 100);
        builder.add(7, 1000, 100, 180, event(1000, "t", "p", "a", null, Outcome.SUCCESS));
        builder.add(8, 900, 180, 260, event(900, "t", null, "b", "r", Outcome.DENIED));
        return builder.build();
    }

    @Test
    void theHashIsFnv1aOfTheCodeUnits() {
        assertEquals(0xaf63dc4c8601ec8cL, FileIndex.hash("a"), "the published FNV-1a 64 vector of \"a\"");
        assertEquals(0xcbf29ce484222325L, FileIndex.hash(""));
    }

    @Test
    void theSidecarFormatIsPinned() {
        String golden = "0000000000000007" + "00000002" + "0000000000000104"
                + "00000001" + "af63e94c860202a3" + "01" + "0101"                       // tenant "t", "t"
                + "00000001" + "af63ed4c8602096f" + "01" + "0100"                       // principal "p", none
                + "00000002" + "af63dc4c8601ec8c" + "af63df4c8601f1a5" + "01" + "0102"  // action "a", "b"
                + "00000001" + "af63ef4c86020cd5" + "01" + "0001"                       // resource none, "r"
                + "0102"                                                                // SUCCESS, DENIED
                + "00000001" + "0000000000000064" + "0000000000000384" + "00000000000003e8";
        byte[] encoded = IndexFile.encode(twoEntries());
        assertEquals(golden, HexFormat.of().formatHex(encoded));

        FileIndex decoded = IndexFile.decode(ByteBuffer.wrap(encoded));
        assertArrayEquals(encoded, IndexFile.encode(decoded), "decodes to what it was");
        assertNull(decoded.damage);
    }

    @Test
    void aMaskHasTheEntriesWhoseCodesAllMatch() {
        FileIndex index = twoEntries();
        assertEquals(0b11, index.matches(0, index.codesOf(EventFilter.ALL)));
        assertEquals(0b01, index.matches(0, index.codesOf(new EventFilter("t", "p", null, null, null, null, null))));
        assertEquals(0b10, index.matches(0, index.codesOf(new EventFilter(null, null, "b", null, Outcome.DENIED,
                null, null))));
        assertEquals(0, index.matches(0, index.codesOf(new EventFilter(null, null, "b", null, Outcome.SUCCESS,
                null, null))));
        assertNull(index.codesOf(new EventFilter(null, "nobody", null, null, null, null, null)),
                "a value in no entry of the file: the file is skipped");
        assertEquals(900, index.minTime());
        assertEquals(1000, index.maxTime());
    }

    @Test
    void codesAreAsNarrowAsTheDictionaryAllows() {
        FileIndexBuilder builder = new FileIndexBuilder(1, 0);
        int count = 70_000;
        for (int i = 0; i < count; i++) {
            builder.add(i + 1, i, i * 10L, i * 10L + 10, event(i, "t" + (i % 3), "p" + (i % 300),
                    "a", "r" + i, Outcome.SUCCESS));
        }
        FileIndex index = builder.build();
        assertInstanceOf(FileIndex.ByteCodes.class, index.columns[FileIndex.Field.TENANT.ordinal()]);
        assertInstanceOf(FileIndex.CharCodes.class, index.columns[FileIndex.Field.PRINCIPAL.ordinal()]);
        assertInstanceOf(FileIndex.IntCodes.class, index.columns[FileIndex.Field.RESOURCE.ordinal()]);
        FileIndex decoded = IndexFile.decode(ByteBuffer.wrap(IndexFile.encode(index)));
        EventFilter filter = new EventFilter("t1", "p298", null, "r68998", null, null, null);
        int block = 68_998 / FileIndex.BLOCK;
        long expected = 1L << (68_998 % FileIndex.BLOCK);
        assertEquals(expected, index.matches(block, index.codesOf(filter)));
        assertEquals(expected, decoded.matches(block, decoded.codesOf(filter)));
        assertEquals(count / FileIndex.BLOCK + 1, decoded.blocks);
    }

    @Test
    void aSnapshotIsWhatWasAddedThenAndLaterAddsDoNotChangeIt() {
        FileIndexBuilder builder = new FileIndexBuilder(1, 0);
        for (int i = 0; i < 100; i++) {
            builder.add(i + 1, 5000 + i, i * 10L, i * 10L + 10, event(5000 + i, "t", "p", "a", null,
                    Outcome.SUCCESS));
        }
        FileIndex snapshot = builder.snapshot();
        for (int i = 100; i < 3000; i++) {
            builder.add(i + 1, 1, i * 10L, i * 10L + 10, event(1, "t", "q", "a", null, Outcome.FAILURE));
        }
        assertEquals(100, snapshot.count);
        assertEquals(1000, snapshot.endPosition);
        assertEquals(5000, snapshot.minTime(), "the times of later entries are not in it");
        assertEquals(-1L >>> 28, snapshot.matches(1, snapshot.codesOf(EventFilter.ALL)), "36 entries in block 1");
        EventFilter q = new EventFilter(null, "q", null, null, null, null, null);
        assertEquals(0, snapshot.matches(1, snapshot.codesOf(q)), "a value first seen later matches nothing in it");
        assertThrows(IllegalArgumentException.class, () -> builder.add(5000, 1, 0, 1, event(1, null, null, "a",
                null, Outcome.SUCCESS)), "entries are added in sequence");
    }

    @Test
    void aMalformedSidecarIsRefused() {
        byte[] encoded = IndexFile.encode(twoEntries());
        byte[] trailing = java.util.Arrays.copyOf(encoded, encoded.length + 1);
        assertThrows(IllegalArgumentException.class, () -> IndexFile.decode(ByteBuffer.wrap(trailing)));
        byte[] pastDictionary = encoded.clone();
        pastDictionary[8 + 4 + 8 + 4 + 8 + 1] = 9; // the first tenant code
        assertThrows(IllegalArgumentException.class, () -> IndexFile.decode(ByteBuffer.wrap(pastDictionary)));
        byte[] blocks = encoded.clone();
        blocks[encoded.length - 24 - 1] = 2; // the block count
        assertThrows(IllegalArgumentException.class, () -> IndexFile.decode(ByteBuffer.wrap(blocks)));
    }
}
