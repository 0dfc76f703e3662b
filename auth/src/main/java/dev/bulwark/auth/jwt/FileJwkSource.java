package dev.bulwark.auth.jwt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public keys of a JWK Set file, read again when the file changes (size, modification time or inode), which is
 * looked at no more often than every {@code recheck} of the injected clock. Private and symmetric key material in the
 * file is dropped: only public keys verify.
 */
final class FileJwkSource implements JWKSource<SecurityContext> {

    private static final Logger LOG = LoggerFactory.getLogger(FileJwkSource.class);

    private record Loaded(JWKSet keys, Object state, Instant checkedAt) {
    }

    private final Path file;
    private final Duration recheck;
    private final Clock clock;
    private volatile Loaded loaded;

    /** Reads the file now; a file that cannot be read is a configuration error. */
    FileJwkSource(Path file, Duration recheck, Clock clock) {
        this.file = file;
        this.recheck = recheck;
        this.clock = clock;
        try {
            Object state = state();
            this.loaded = new Loaded(read(), state, clock.instant());
        } catch (IOException | ParseException e) {
            throw new IllegalArgumentException("the JWKS file " + file + " cannot be read: " + e.getMessage(), e);
        }
        if (loaded.keys().isEmpty()) {
            throw new IllegalArgumentException("the JWKS file " + file + " holds no public key");
        }
    }

    @Override
    public List<JWK> get(JWKSelector selector, SecurityContext context) {
        return selector.select(current());
    }

    JWKSet current() {
        Loaded l = loaded;
        Instant now = clock.instant();
        if (now.isBefore(l.checkedAt().plus(recheck))) {
            return l.keys();
        }
        synchronized (this) {
            l = loaded;
            if (now.isBefore(l.checkedAt().plus(recheck))) {
                return l.keys();
            }
            Object state;
            try {
                state = state();
            } catch (IOException e) {
                LOG.warn("The JWKS file {} cannot be read ({}); keeping the keys read before", file, e.toString());
                loaded = new Loaded(l.keys(), l.state(), now);
                return l.keys();
            }
            if (state.equals(l.state())) {
                loaded = new Loaded(l.keys(), state, now);
                return l.keys();
            }
            try {
                JWKSet keys = read();
                if (keys.isEmpty()) {
                    throw new ParseException("no public key", 0);
                }
                loaded = new Loaded(keys, state, now);
                LOG.info("The JWKS file {} changed: {} keys", file, keys.size());
                return keys;
            } catch (IOException | ParseException e) {
                LOG.warn("The JWKS file {} changed but cannot be read ({}); keeping the keys read before", file,
                        e.getMessage());
                loaded = new Loaded(l.keys(), state, now);
                return l.keys();
            }
        }
    }

    private JWKSet read() throws IOException, ParseException {
        return JWKSet.parse(Files.readString(file, StandardCharsets.UTF_8)).toPublicJWKSet();
    }

    private Object state() throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        FileTime modified = a.lastModifiedTime();
        return List.of(a.size(), modified, String.valueOf(a.fileKey()));
    }
}
