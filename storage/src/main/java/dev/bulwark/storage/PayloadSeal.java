package dev.bulwark.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Seals and opens the payload of one small file (a producer snapshot) under a segment's data key. */
interface PayloadSeal {

    byte[] seal(byte[] plaintext) throws IOException;

    /**
     * @throws IOException when the payload does not open: another key or file, or changed bytes
     */
    ByteBuffer open(ByteBuffer sealed) throws IOException;
}
