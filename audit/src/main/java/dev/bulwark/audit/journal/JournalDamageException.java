package dev.bulwark.audit.journal;

import java.io.IOException;
import java.nio.file.Path;

/** A journal file whose bytes are not what the journal wrote: where, and what is wrong. */
public final class JournalDamageException extends IOException {

    private final Path file;
    private final long position;
    private final boolean cutShort;

    public JournalDamageException(Path file, long position, String reason) {
        this(file, position, reason, false);
    }

    JournalDamageException(Path file, long position, String reason, boolean cutShort) {
        super(file + " at byte " + position + ": " + reason);
        this.file = file;
        this.position = position;
        this.cutShort = cutShort;
    }

    /** Whether the bytes end before the header or entry there does: what a crash or a truncation leaves. */
    public boolean cutShort() {
        return cutShort;
    }

    public Path file() {
        return file;
    }

    public long position() {
        return position;
    }
}
