package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;
import dev.bulwark.audit.AuditEventCodec;
import dev.bulwark.storage.crypto.AesGcm;
import dev.bulwark.storage.crypto.DataKey;
import dev.bulwark.storage.crypto.KeyOwner;
import dev.bulwark.storage.crypto.KeyUnavailableException;
import dev.bulwark.storage.crypto.KeyUnwrapException;
import dev.bulwark.storage.crypto.Keyring;

import javax.crypto.AEADBadTagException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/** Opens sealed entries with the broker's keys: what online verification and queries add to the offline checks. */
public final class EntryOpener {

    private final Keyring keyring;
    private final AesGcm gcm;
    /** The data key of each file opened so far, by the file's first sequence number; guarded by this. */
    private final Map<Long, DataKey> keys = new HashMap<>();

    public EntryOpener(Keyring keyring, AesGcm gcm) {
        this.keyring = keyring;
        this.gcm = gcm;
    }

    /**
     * The event an entry seals.
     *
     * @throws AEADBadTagException      when the seal does not open: its bytes, or the sequence number, time or
     *                                  previous hash bound to it, were changed
     * @throws KeyUnavailableException  when the file's data key is not in the keyring
     * @throws KeyUnwrapException       when the file's data key does not unwrap
     * @throws IllegalArgumentException when it opens but is not an event (it was sealed by something else)
     */
    AuditEvent open(JournalFormat.Header header, EntryScanner.Entry entry)
            throws AEADBadTagException, KeyUnavailableException, KeyUnwrapException {
        DataKey key = key(header);
        byte[] plain = gcm.open(key.key(), JournalFormat.nonce(entry.seq()),
                JournalFormat.associatedData(entry.seq(), entry.timeMs(), entry.previousHash()), entry.sealed());
        return AuditEventCodec.decode(ByteBuffer.wrap(plain));
    }

    private synchronized DataKey key(JournalFormat.Header header) throws KeyUnavailableException, KeyUnwrapException {
        DataKey key = keys.get(header.firstSeq());
        if (key == null || !key.wrapped().equals(header.key())) {
            key = keyring.open(KeyOwner.SYSTEM, header.key());
            keys.put(header.firstSeq(), key);
        }
        return key;
    }
}
