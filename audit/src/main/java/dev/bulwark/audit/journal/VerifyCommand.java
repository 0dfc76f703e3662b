package dev.bulwark.audit.journal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The offline verifier: {@code --journal <dir> --public-keys <jwks file>} checks a copy of the journal with nothing
 * but the signing public keys, prints "intact: ..." or the first bad entry and why, and exits 0 when intact, 1 when
 * not, 2 on a usage error (and 3 when the files cannot be read).
 */
public final class VerifyCommand {

    private VerifyCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path journal = null;
        Path keys = null;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--journal" -> journal = value == null ? null : Path.of(value);
                case "--public-keys" -> keys = value == null ? null : Path.of(value);
                case "--help", "-h" -> {
                    out.println(usage());
                    return 0;
                }
                default -> {
                    err.println("unknown argument " + args[i] + "\n" + usage());
                    return 2;
                }
            }
            i++;
        }
        if (journal == null || keys == null || !Files.isDirectory(journal)) {
            err.println(usage());
            return 2;
        }
        try {
            JournalVerifier.Report report = JournalVerifier.verifyOffline(journal,
                    CheckpointSigner.readPublicKeys(keys));
            out.println(report.summary());
            report.problem().ifPresent(p -> out.println("  in " + p.file() + " at byte " + p.position()));
            return report.intact() ? 0 : 1;
        } catch (IOException e) {
            err.println("cannot read the journal: " + e.getMessage());
            return 3;
        }
    }

    private static String usage() {
        return "usage: VerifyCommand --journal <data-dir>/audit --public-keys <signing-keys.jwks>\n"
                + "  checks the hash chain and the signed checkpoints; exit 0 intact, 1 not, 2 usage, 3 unreadable";
    }
}
