package dev.bulwark.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetadataFileTest {

    private static final int MAGIC = 0x54455354; // "TEST"
    private static final byte[] PAYLOAD = {1, 2, 3, 4, 5, 6, 7};

    @TempDir
    Path dir;

    @Test
    void roundTripsPayloadAndVersion() throws IOException {
        Path file = dir.resolve("meta");
        MetadataFile.write(file, MAGIC, (byte) 3, PAYLOAD);

        MetadataFile.Content content = MetadataFile.read(file, MAGIC).orElseThrow();

        assertEquals(3, content.version());
        assertArrayEquals(PAYLOAD, remaining(content.payload()));
        assertFalse(Files.exists(dir.resolve("meta.tmp")), "the temporary file is renamed away");
    }

    @Test
    void pinsTheEnvelopeBytes() throws IOException {
        Path file = dir.resolve("meta");
        MetadataFile.write(file, MAGIC, (byte) 1, new byte[] {(byte) 0xAB});

        byte[] bytes = Files.readAllBytes(file);

        // magic, version, payload length 1, payload, then a CRC32C of everything before it
        assertArrayEquals(new byte[] {0x54, 0x45, 0x53, 0x54, 1, 0, 0, 0, 1, (byte) 0xAB},
                Arrays.copyOf(bytes, 10));
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, 10);
        assertEquals((int) crc.getValue(), ByteBuffer.wrap(bytes).getInt(10));
        assertEquals(14, bytes.length);
    }

    @Test
    void anEmptyPayloadRoundTrips() throws IOException {
        Path file = dir.resolve("meta");
        MetadataFile.write(file, MAGIC, (byte) 1, new byte[0]);

        assertEquals(0, MetadataFile.read(file, MAGIC).orElseThrow().payload().remaining());
    }

    @Test
    void aRewriteReplacesTheWholeContent() throws IOException {
        Path file = dir.resolve("meta");
        MetadataFile.write(file, MAGIC, (byte) 1, new byte[100]);
        MetadataFile.write(file, MAGIC, (byte) 2, PAYLOAD);

        MetadataFile.Content content = MetadataFile.read(file, MAGIC).orElseThrow();
        assertEquals(2, content.version());
        assertArrayEquals(PAYLOAD, remaining(content.payload()));
    }

    @Test
    void aMissingFileIsEmpty() throws IOException {
        assertEquals(Optional.empty(), MetadataFile.read(dir.resolve("absent"), MAGIC));
    }

    @Test
    void everyFlippedByteIsReportedAsCorrupt() throws IOException {
        Path file = dir.resolve("meta");
        MetadataFile.write(file, MAGIC, (byte) 1, PAYLOAD);
        byte[] good = Files.readAllBytes(file);

        for (int i = 0; i < good.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << bit);
                Files.write(file, bad);
                int at = i;
                int flipped = bit;
                assertThrows(MetadataFile.CorruptFileException.class, () -> MetadataFile.read(file, MAGIC),
                        () -> "bit " + flipped + " of byte " + at + " flipped");
            }
        }
    }

    @Test
    void everyTruncationIsReportedAsCorrupt() throws IOException {
        Path file = dir.resolve("meta");
        MetadataFile.write(file, MAGIC, (byte) 1, PAYLOAD);
        byte[] good = Files.readAllBytes(file);

        for (int length = 0; length < good.length; length++) {
            Files.write(file, Arrays.copyOf(good, length));
            int kept = length;
            assertThrows(MetadataFile.CorruptFileException.class, () -> MetadataFile.read(file, MAGIC),
                    () -> "truncated to " + kept + " bytes");
        }
    }

    @Test
    void trailingBytesAreReportedAsCorrupt() throws IOException {
        Path file = dir.resolve("meta");
        MetadataFile.write(file, MAGIC, (byte) 1, PAYLOAD);
        byte[] good = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(good, good.length + 1));

        assertThrows(MetadataFile.CorruptFileException.class, () -> MetadataFile.read(file, MAGIC));
    }

    @Test
    void aFileOfAnotherKindIsReportedAsCorrupt() throws IOException {
        Path file = dir.resolve("meta");
        MetadataFile.write(file, MAGIC, (byte) 1, PAYLOAD);

        MetadataFile.CorruptFileException e = assertThrows(MetadataFile.CorruptFileException.class,
                () -> MetadataFile.read(file, MAGIC + 1));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    private static byte[] remaining(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
