package dev.bulwark.storage.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Pins the bytes of the keyring file and of a wrapped data key. */
class KeyFormatsTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final KeyOwner ACME = KeyOwner.tenant("acme");

    /**
     * Written by the first version of the keyring under {@link LocalKeyManagementServiceTest#MASTER_KEY}, with one
     * data key of acme; decoded and opened independently with Python's cryptography package from the documented
     * layouts.
     */
    private static final String WRITTEN_KEYRING =
            "42574b52010000006b166c6f63616c2d36373336396132613438313766353336000000010461636d6500000001000000"
            + "0100000001003d017bcd530889289cfb3a4900164ea0b35c80da6e4cf6d6c52f39b6104d98e736b2a3194b8299c17096"
            + "3ac49af5a90fc90960f115ecfa898aa2b0a95dc1e9ddc784";
    private static final String WRITTEN_WRAPPED_DATA_KEY =
            "010461636d6500000001b99a85209eed468ee73dfaa0b9f4470c307da03f3e394e8df1357c61114173c64356ed2a3208"
            + "3238de33b5f61d0a0778561d677b86d4ae1f772b3f12";
    private static final String WRITTEN_DATA_KEY = "19565f374947b766532cb830c31cb12e7631426e5f3b620e54af53a40804d219";

    @TempDir
    Path dataDir;

    @Test
    void aKeyringAndADataKeyOfTheFirstFormatStillOpen() throws Exception {
        Path file = Files.createDirectories(KeysDirectory.of(dataDir)).resolve(Keyring.FILE_NAME);
        Files.write(file, HEX.parseHex(WRITTEN_KEYRING));
        AesGcm gcm = new AesGcm();

        Keyring keyring = Keyring.open(dataDir, new LocalKeyManagementService(LocalKeyManagementServiceTest.MASTER_KEY,
                gcm), gcm);
        DataKey key = keyring.open(ACME, WrappedDataKey.fromBytes(HEX.parseHex(WRITTEN_WRAPPED_DATA_KEY)));

        assertEquals(WRITTEN_DATA_KEY, HEX.formatHex(key.key().getEncoded()));
    }

    @Test
    void pinsTheKeyringPayload() {
        KeyringFormat.Stored stored = new KeyringFormat.Stored("local-0011223344556677", new TreeMap<>(Map.of(
                ACME, new KeyringFormat.StoredOwner(2, new TreeMap<>(Map.of(2, new byte[] {(byte) 0xAA, (byte) 0xBB},
                        3, new byte[] {(byte) 0xCC}))),
                KeyOwner.SYSTEM, new KeyringFormat.StoredOwner(1, new TreeMap<>(Map.of(1, new byte[] {1}))))));

        String expected = "16" + hex("local-0011223344556677") // master key id
                + "00000002"                                   // two owners, in order of id ("$" before "a")
                + "07" + hex("$system") + "00000001" + "00000001" // destroyed below 1, one KEK
                + "00000001" + "0001" + "01"                   // version 1, 1 byte
                + "04" + hex("acme") + "00000002" + "00000002" // destroyed below 2, two KEKs
                + "00000002" + "0002" + "aabb"                 // version 2, 2 bytes
                + "00000003" + "0001" + "cc";                  // version 3, 1 byte
        byte[] payload = KeyringFormat.encode(stored);
        assertEquals(expected, HEX.formatHex(payload));

        KeyringFormat.Stored decoded = KeyringFormat.decode(ByteBuffer.wrap(payload));
        assertEquals("local-0011223344556677", decoded.masterKeyId());
        assertEquals(2, decoded.owners().get(ACME).destroyedBelow());
        assertArrayEquals(new byte[] {(byte) 0xCC}, decoded.owners().get(ACME).wrappedKeks().get(3));
        assertArrayEquals(payload, KeyringFormat.encode(decoded));
    }

    @Test
    void pinsTheKeyringFileEnvelope() throws Exception {
        Path file = dataDir.resolve("keyring");
        KeyringFormat.write(file, new KeyringFormat.Stored("k", new TreeMap<>()));

        byte[] bytes = Files.readAllBytes(file);

        // "BWKR", format version 1, payload length 6: master key id "k" and no owners; then CRC32C
        assertEquals("42574b5201" + "00000006" + "01" + hex("k") + "00000000", HEX.formatHex(bytes, 0, 15));
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, 15);
        assertEquals((int) crc.getValue(), ByteBuffer.wrap(bytes).getInt(15));
        assertEquals(19, bytes.length);
    }

    @Test
    void pinsTheAssociatedDataOfAKekWrap() {
        assertEquals(hex("bulwark/kek/v1") + "03" + hex("k-1") + "04" + hex("acme") + "00000007",
                HEX.formatHex(KeyringFormat.kekAssociatedData("k-1", ACME, 7)));
    }

    @Test
    void pinsTheWrappedDataKeyEncodingAndItsAssociatedData() throws Exception {
        byte[] sealed = new byte[WrappedDataKey.SEALED_LENGTH];
        for (int i = 0; i < sealed.length; i++) {
            sealed[i] = (byte) i;
        }
        WrappedDataKey wrapped = new WrappedDataKey(ACME, 2, sealed);

        byte[] bytes = wrapped.toBytes();

        // format version 1, owner length 4, "acme", KEK version 2, then nonce, wrapped key and tag
        assertEquals("01" + "04" + hex("acme") + "00000002" + HEX.formatHex(sealed), HEX.formatHex(bytes));
        assertEquals(70, bytes.length);
        assertEquals(bytes.length, wrapped.encodedLength());
        assertEquals(wrapped, WrappedDataKey.fromBytes(bytes));
        assertEquals(hex("bulwark/data-key/v1") + "01" + "04" + hex("acme") + "00000002",
                HEX.formatHex(WrappedDataKey.associatedData(ACME, 2)));
    }

    @Test
    void theLongestOwnerGivesTheMaximumEncodedLength() {
        KeyOwner longest = KeyOwner.tenant("x".repeat(KeyOwner.MAX_LENGTH));

        WrappedDataKey wrapped = new WrappedDataKey(longest, Integer.MAX_VALUE, new byte[WrappedDataKey.SEALED_LENGTH]);

        assertEquals(130, WrappedDataKey.MAX_ENCODED_LENGTH);
        assertEquals(67, WrappedDataKey.MIN_ENCODED_LENGTH);
        assertEquals(WrappedDataKey.MAX_ENCODED_LENGTH, wrapped.toBytes().length);
        assertEquals(WrappedDataKey.MIN_ENCODED_LENGTH,
                new WrappedDataKey(KeyOwner.tenant("a"), 1, new byte[WrappedDataKey.SEALED_LENGTH]).toBytes().length);
    }

    @Test
    void readsAWrappedDataKeyFromTheMiddleOfABuffer() throws Exception {
        WrappedDataKey wrapped = new WrappedDataKey(KeyOwner.SYSTEM, 9, new byte[WrappedDataKey.SEALED_LENGTH]);
        ByteBuffer header = ByteBuffer.allocate(3 + wrapped.encodedLength() + 2).put(new byte[3]);
        wrapped.writeTo(header).putShort((short) 0x7777).flip().position(3);

        assertEquals(wrapped, WrappedDataKey.readFrom(header));
        assertEquals(0x7777, header.getShort());
    }

    @Test
    void refusesMalformedWrappedDataKeys() {
        byte[] good = new WrappedDataKey(ACME, 2, new byte[WrappedDataKey.SEALED_LENGTH]).toBytes();

        for (int length = 0; length < good.length; length++) {
            byte[] truncated = Arrays.copyOf(good, length);
            assertThrows(KeyUnwrapException.class, () -> WrappedDataKey.fromBytes(truncated));
        }
        assertThrows(KeyUnwrapException.class, () -> WrappedDataKey.fromBytes(Arrays.copyOf(good, good.length + 1)));
        assertThrows(KeyUnwrapException.class, () -> WrappedDataKey.fromBytes(with(good, 0, 2)));
        assertThrows(KeyUnwrapException.class, () -> WrappedDataKey.fromBytes(with(good, 1, 0)));
        assertThrows(KeyUnwrapException.class, () -> WrappedDataKey.fromBytes(with(good, 2, '/')));
        assertThrows(KeyUnwrapException.class, () -> WrappedDataKey.fromBytes(with(good, 9, 0)));
    }

    private static byte[] with(byte[] bytes, int at, int value) {
        byte[] changed = bytes.clone();
        changed[at] = (byte) value;
        return changed;
    }

    private static String hex(String text) {
        return HEX.formatHex(text.getBytes(StandardCharsets.UTF_8));
    }
}
