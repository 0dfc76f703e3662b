package dev.bulwark.auth.tls;

import java.nio.ByteBuffer;

/**
 * A ClientHello written by hand, for versions the JDK will not send (TLS 1.1 is disabled in java.security): what an
 * old client opens with. Shared with the gateway's integration tests through this module's test jar.
 */
public final class LegacyClientHello {

    /** TLS 1.1's protocol version. */
    public static final int TLS_1_1 = 0x0302;

    private LegacyClientHello() {
    }

    /** A ClientHello record of {@code version} with CBC and GCM suites and no supported_versions extension. */
    public static byte[] of(int version) {
        int[] suites = {0xC02B, 0xC02F, 0xC009, 0xC013, 0x002F};
        ByteBuffer body = ByteBuffer.allocate(512);
        body.putShort((short) version);
        body.put(new byte[32]); // random
        body.put((byte) 0); // session id
        body.putShort((short) (suites.length * 2));
        for (int s : suites) {
            body.putShort((short) s);
        }
        body.put((byte) 1).put((byte) 0); // compression: null
        ByteBuffer extensions = ByteBuffer.allocate(64);
        extensions.putShort((short) 0x000a).putShort((short) 4).putShort((short) 2).putShort((short) 0x0017);
        extensions.putShort((short) 0x000b).putShort((short) 2).put((byte) 1).put((byte) 0);
        extensions.flip();
        body.putShort((short) extensions.remaining()).put(extensions);
        body.flip();
        ByteBuffer record = ByteBuffer.allocate(9 + body.remaining());
        record.put((byte) 22).putShort((short) 0x0301).putShort((short) (4 + body.remaining()));
        record.put((byte) 1).put((byte) 0).putShort((short) body.remaining()).put(body);
        return record.array();
    }
}
