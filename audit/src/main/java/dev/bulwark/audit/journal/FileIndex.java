package dev.bulwark.audit.journal;

import dev.bulwark.audit.AuditEvent;

import java.util.Arrays;

/**
 * The index of one journal file's entries (or of the first entries of the file being written): for each entry, a
 * small code per queried field, and for each block of {@link #BLOCK} consecutive entries, where it starts in the file
 * and its earliest and latest time. {@link JournalIndex} says how it is used and kept.
 *
 * <p>A code stands for a value through the file's dictionary of that field, which holds a 64-bit hash of each value
 * ({@link #hash}), not the value: code 0 is "no value" (null), codes 1..n the dictionary's values. Two values whose
 * hashes collide share a code; a query opens every entry its codes select and checks the event itself, so a collision
 * costs an entry read, never a wrong answer. Codes are stored as bytes, chars or ints, whichever the dictionary's size
 * needs, so that an entry costs 5 to 8 bytes of memory with its share of blocks and dictionaries.
 *
 * <p>Immutable, and safe to share between threads.
 */
final class FileIndex {

    /** Entries per block: one block's matches are one {@code long} bit mask. */
    static final int BLOCK = 64;

    /** The columns of codes, in this order: the four named fields, then the outcome. */
    enum Field {
        TENANT, PRINCIPAL, ACTION, RESOURCE, OUTCOME;

        /** The fields whose values are named (the outcome's code is its own {@code Outcome.code()}). */
        static final Field[] NAMED = {TENANT, PRINCIPAL, ACTION, RESOURCE};

        String of(AuditEvent event) {
            return switch (this) {
                case TENANT -> event.tenantId();
                case PRINCIPAL -> event.principal();
                case ACTION -> event.action();
                case RESOURCE -> event.resource();
                case OUTCOME -> throw new IllegalStateException("the outcome is not a named field");
            };
        }

        String of(EventFilter filter) {
            return switch (this) {
                case TENANT -> filter.tenantId();
                case PRINCIPAL -> filter.principal();
                case ACTION -> filter.action();
                case RESOURCE -> filter.resource();
                case OUTCOME -> throw new IllegalStateException("the outcome is not a named field");
            };
        }
    }

    /** A field's values in one file: the code of a value's hash, or -1 when no entry of the file has it. */
    interface Dictionary {
        int code(long hash);
    }

    /** A closed file's dictionary: the hashes, ascending; a value's code is its hash's place, from 1. */
    record SortedDictionary(long[] hashes) implements Dictionary {
        @Override
        public int code(long hash) {
            int at = Arrays.binarySearch(hashes, hash);
            return at < 0 ? -1 : at + 1;
        }
    }

    final long firstSeq;
    final int count;
    /** Where the last indexed entry ends in the file. */
    final long endPosition;
    final Dictionary[] dictionaries;
    final Codes[] columns;
    final int blocks;
    final long[] blockPositions;
    final long[] blockMinTimes;
    final long[] blockMaxTimes;
    /** Why the entries after the last indexed one were not indexed (the file is damaged there), or null. */
    final String damage;

    FileIndex(long firstSeq, int count, long endPosition, Dictionary[] dictionaries, Codes[] columns,
              long[] blockPositions, long[] blockMinTimes, long[] blockMaxTimes, String damage) {
        this.firstSeq = firstSeq;
        this.count = count;
        this.endPosition = endPosition;
        this.dictionaries = dictionaries;
        this.columns = columns;
        this.blocks = (count + BLOCK - 1) / BLOCK;
        this.blockPositions = blockPositions;
        this.blockMinTimes = blockMinTimes;
        this.blockMaxTimes = blockMaxTimes;
        this.damage = damage;
    }

    /** The sequence number of the last indexed entry ({@code firstSeq - 1} when there is none). */
    long lastSeq() {
        return firstSeq + count - 1;
    }

    long minTime() {
        long min = Long.MAX_VALUE;
        for (int b = 0; b < blocks; b++) {
            min = Math.min(min, blockMinTimes[b]);
        }
        return min;
    }

    long maxTime() {
        long max = Long.MIN_VALUE;
        for (int b = 0; b < blocks; b++) {
            max = Math.max(max, blockMaxTimes[b]);
        }
        return max;
    }

    /** Where block {@code b}'s entries end in the file. */
    long blockEnd(int b) {
        return b + 1 < blocks ? blockPositions[b + 1] : endPosition;
    }

    /**
     * The codes a filter asks for, by {@link Field} ordinal (-1: any value), or null when a value it names is in no
     * entry of this file.
     */
    int[] codesOf(EventFilter filter) {
        int[] codes = new int[Field.values().length];
        for (Field field : Field.NAMED) {
            String value = field.of(filter);
            codes[field.ordinal()] = value == null ? -1 : dictionaries[field.ordinal()].code(hash(value));
            if (value != null && codes[field.ordinal()] < 0) {
                return null;
            }
        }
        codes[Field.OUTCOME.ordinal()] = filter.outcome() == null ? -1 : filter.outcome().code();
        return codes;
    }

    /** Bit i set: entry {@code b * BLOCK + i} has every code of {@code codes} ({@link #codesOf}). */
    long matches(int b, int[] codes) {
        int from = b * BLOCK;
        int length = Math.min(BLOCK, count - from);
        long mask = length == BLOCK ? -1L : (1L << length) - 1;
        for (int f = 0; f < codes.length && mask != 0; f++) {
            if (codes[f] >= 0) {
                mask &= columns[f].matches(from, length, codes[f]);
            }
        }
        return mask;
    }

    /** Roughly what this index holds on the heap, for the cache's budget. */
    long memoryBytes() {
        long bytes = 64 + blockPositions.length * 24L;
        for (Codes column : columns) {
            bytes += column.memoryBytes();
        }
        for (Dictionary dictionary : dictionaries) {
            bytes += dictionary instanceof SortedDictionary sorted ? sorted.hashes().length * 8L : 0;
        }
        return bytes;
    }

    /**
     * The 64-bit FNV-1a hash of a value's UTF-16 code units, each taken whole (h = (h ^ unit) * prime). Not a
     * security boundary: a collision only makes a query read an entry it then finds does not match.
     */
    static long hash(String value) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < value.length(); i++) {
            h = (h ^ value.charAt(i)) * 0x100000001b3L;
        }
        return h;
    }

    /** One column of codes, as narrow as its largest code allows. */
    abstract static sealed class Codes permits ByteCodes, CharCodes, IntCodes {

        abstract int get(int i);

        /** Bit i set: entry {@code from + i} has {@code code}. */
        abstract long matches(int from, int length, int code);

        abstract long memoryBytes();

        /** The narrowest column holding {@code codes[0..count)}, whose largest code is {@code maxCode}. */
        static Codes compact(int[] codes, int count, int maxCode) {
            if (maxCode <= 0xFF) {
                byte[] narrow = new byte[count];
                for (int i = 0; i < count; i++) {
                    narrow[i] = (byte) codes[i];
                }
                return new ByteCodes(narrow);
            }
            if (maxCode <= 0xFFFF) {
                char[] narrow = new char[count];
                for (int i = 0; i < count; i++) {
                    narrow[i] = (char) codes[i];
                }
                return new CharCodes(narrow);
            }
            return new IntCodes(Arrays.copyOf(codes, count));
        }
    }

    static final class ByteCodes extends Codes {
        final byte[] codes;

        ByteCodes(byte[] codes) {
            this.codes = codes;
        }

        @Override
        int get(int i) {
            return codes[i] & 0xFF;
        }

        @Override
        long matches(int from, int length, int code) {
            if (code > 0xFF) {
                return 0;
            }
            byte wanted = (byte) code;
            long mask = 0;
            for (int i = 0; i < length; i++) {
                mask |= (codes[from + i] == wanted ? 1L : 0L) << i;
            }
            return mask;
        }

        @Override
        long memoryBytes() {
            return 16 + codes.length;
        }
    }

    static final class CharCodes extends Codes {
        final char[] codes;

        CharCodes(char[] codes) {
            this.codes = codes;
        }

        @Override
        int get(int i) {
            return codes[i];
        }

        @Override
        long matches(int from, int length, int code) {
            if (code > 0xFFFF) {
                return 0;
            }
            char wanted = (char) code;
            long mask = 0;
            for (int i = 0; i < length; i++) {
                mask |= (codes[from + i] == wanted ? 1L : 0L) << i;
            }
            return mask;
        }

        @Override
        long memoryBytes() {
            return 16 + codes.length * 2L;
        }
    }

    /** Also the column of the file being written, over the writer's array (entries past the count unread). */
    static final class IntCodes extends Codes {
        final int[] codes;

        IntCodes(int[] codes) {
            this.codes = codes;
        }

        @Override
        int get(int i) {
            return codes[i];
        }

        @Override
        long matches(int from, int length, int code) {
            long mask = 0;
            for (int i = 0; i < length; i++) {
                mask |= (codes[from + i] == code ? 1L : 0L) << i;
            }
            return mask;
        }

        @Override
        long memoryBytes() {
            return 16 + codes.length * 4L;
        }
    }
}
