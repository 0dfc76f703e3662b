package dev.bulwark.auth.jwt;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

import javax.net.ssl.SSLSocketFactory;

/** Where the public keys that sign JWTs come from: a JWK Set (RFC 7517) in a file or at a URL. */
public sealed interface JwksSource {

    Duration DEFAULT_FILE_RECHECK = Duration.ofSeconds(30);
    Duration DEFAULT_CACHE_TTL = Duration.ofMinutes(5);
    Duration DEFAULT_HTTP_TIMEOUT = Duration.ofSeconds(5);

    /**
     * A file or a URL: {@code https://...} (or {@code http://} to a loopback address), {@code file:/...}, or a path.
     */
    static JwksSource parse(String location) {
        String l = Objects.requireNonNull(location, "location").trim();
        String lower = l.toLowerCase(Locale.ROOT);
        if (lower.startsWith("https://") || lower.startsWith("http://")) {
            return new Url(URI.create(l));
        }
        if (lower.startsWith("file:")) {
            return new File(Path.of(URI.create(l)));
        }
        return new File(Path.of(l));
    }

    /**
     * A JWK Set file, read at start (a file that cannot be read stops the start) and again when it changes, looked at
     * no more often than every {@code recheck}. A changed file that cannot be read keeps the keys read before.
     */
    record File(Path path, Duration recheck) implements JwksSource {
        public File {
            Objects.requireNonNull(path, "path");
            if (recheck == null || recheck.isNegative()) {
                throw new IllegalArgumentException("the JWKS file recheck interval must be zero or more");
            }
        }

        public File(Path path) {
            this(path, DEFAULT_FILE_RECHECK);
        }
    }

    /**
     * A JWK Set served over HTTPS (an identity provider's {@code jwks_uri}), fetched by Nimbus' JWK source: cached for
     * {@code cacheTtl}, fetched again ahead of expiry and when a token names a key id the cache lacks (rate-limited),
     * with connect and read time-outs of {@code httpTimeout}. Plain HTTP is accepted for loopback addresses only.
     *
     * @param sslSocketFactory the sockets for HTTPS (to trust a private CA), or null for the JDK's default
     */
    record Url(URI uri, Duration cacheTtl, Duration httpTimeout, SSLSocketFactory sslSocketFactory)
            implements JwksSource {
        public Url {
            Objects.requireNonNull(uri, "uri");
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("https") && !(scheme.equals("http") && isLoopback(uri.getHost()))) {
                throw new IllegalArgumentException("the JWKS URL must be https (http only to a loopback address): "
                        + uri);
            }
            if (cacheTtl == null || cacheTtl.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("the JWKS cache time must be at least 1s");
            }
            if (httpTimeout == null || httpTimeout.isNegative() || httpTimeout.isZero()
                    || httpTimeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("the JWKS HTTP time-out must be positive");
            }
        }

        public Url(URI uri) {
            this(uri, DEFAULT_CACHE_TTL, DEFAULT_HTTP_TIMEOUT, null);
        }

        private static boolean isLoopback(String host) {
            if (host == null) {
                return false;
            }
            String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
            return h.equalsIgnoreCase("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
                    || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
        }
    }
}
