package dev.bulwark.auth.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds a listener's {@link TlsMaterial} when its files change, so certificates are renewed without a restart.
 *
 * <p>{@link #checkNow()} compares each file's size, modification time and file key (inode) with what it saw last;
 * when one differs it loads the files again. A good load becomes {@link #current()} and is handed to the listener
 * (which swaps the listener's SSL options); a load that fails (a half-written file, a key that does not match its new
 * certificate yet) keeps the old material, is logged with its reason, and is tried again on the next change. A
 * certificate and key renewed one file after the other thus reload once both are written.
 *
 * <p>Threads: {@link #checkNow()} reads files, so it runs off the event loop: on the scheduler passed to
 * {@link #schedule}, or on a worker (Vert.x {@code executeBlocking}) driven by a periodic timer. The listener runs on
 * that thread. {@link #current()} may be read from any thread.
 *
 * <p>With Vert.x 4.5 the gateway swaps a running listener's material (new connections get it, open ones keep theirs):
 * <pre>{@code
 * CertificateReloader reloader = CertificateReloader.open(sources, m -> {
 *     SSLOptions ssl = new SSLOptions()
 *             .setKeyCertOptions(KeyCertOptions.wrap(m.keyManager().orElseThrow()))
 *             .setEnabledSecureTransportProtocols(new LinkedHashSet<>(TlsMaterial.PROTOCOLS));
 *     m.trustManager().ifPresent(tm -> ssl.setTrustOptions(TrustOptions.wrap(tm)));     // mTLS
 *     TlsMaterial.CIPHER_SUITES.forEach(ssl::addEnabledCipherSuite);
 *     netServer.updateSSLOptions(ssl, true);    // force: apply even if Vert.x finds the options equal
 * });
 * vertx.setPeriodic(10_000, id -> vertx.executeBlocking(() -> reloader.checkNow(), false));
 * }</pre>
 */
public final class CertificateReloader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CertificateReloader.class);

    private final TlsSources sources;
    private final Consumer<TlsMaterial> listener;
    private List<FileState> seen;
    private volatile TlsMaterial current;
    private volatile String lastFailure;
    private ScheduledFuture<?> scheduled;

    private CertificateReloader(TlsSources sources, List<FileState> seen, TlsMaterial initial,
                                Consumer<TlsMaterial> listener) {
        this.sources = sources;
        this.seen = seen;
        this.current = initial;
        this.listener = listener;
    }

    /**
     * Loads the material now (failing as {@link TlsMaterial#load} does) and watches its files from then on. The files'
     * state is taken before they are read, so a change during the first load is seen by the first check.
     *
     * @param listener gets each new material after a successful reload
     */
    public static CertificateReloader open(TlsSources sources, Consumer<TlsMaterial> listener) {
        Objects.requireNonNull(listener, "listener");
        List<FileState> before = states(sources.files());
        TlsMaterial initial = sources.load();
        return new CertificateReloader(sources, before, initial, listener);
    }

    /** The material in force: the last one that loaded. */
    public TlsMaterial current() {
        return current;
    }

    /** Why the last reload failed, while the old material stays in force; empty after a good (re)load. */
    public Optional<String> lastFailure() {
        return Optional.ofNullable(lastFailure);
    }

    /**
     * Loads the files again if any changed since the last check.
     *
     * @return true when new material was loaded (and handed to the listener)
     */
    public synchronized boolean checkNow() {
        List<FileState> now = states(sources.files());
        if (now.equals(seen)) {
            return false;
        }
        seen = now;
        TlsMaterial loaded;
        try {
            loaded = sources.load();
        } catch (TlsMaterialException | IllegalArgumentException e) {
            lastFailure = e.getMessage();
            LOG.warn("TLS files changed but cannot be used, so the current certificates stay in force: {}",
                    e.getMessage());
            return false;
        }
        current = loaded;
        lastFailure = null;
        LOG.info("TLS files reloaded: {}{}", sources.files(),
                loaded.notAfter().map(t -> ", certificate valid until " + t).orElse(""));
        try {
            listener.accept(loaded);
        } catch (RuntimeException e) {
            LOG.error("The TLS reload listener failed; the listener may still use the previous certificates", e);
        }
        return true;
    }

    /** Calls {@link #checkNow()} every {@code interval} on {@code scheduler} until {@link #close()}. */
    public synchronized void schedule(ScheduledExecutorService scheduler, Duration interval) {
        if (scheduled != null) {
            throw new IllegalStateException("already scheduled");
        }
        long ms = interval.toMillis();
        scheduled = scheduler.scheduleWithFixedDelay(() -> {
            try {
                checkNow();
            } catch (RuntimeException e) {
                LOG.error("TLS reload check failed", e);
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Stops the scheduled checks; the scheduler itself belongs to the caller. */
    @Override
    public synchronized void close() {
        if (scheduled != null) {
            scheduled.cancel(false);
            scheduled = null;
        }
    }

    /** What identifies a version of a file without reading it; a missing file is a state too. */
    private record FileState(Path path, long size, FileTime modified, Object fileKey) {
    }

    private static List<FileState> states(List<Path> files) {
        List<FileState> states = new ArrayList<>(files.size());
        for (Path file : files) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                states.add(new FileState(file, a.size(), a.lastModifiedTime(), a.fileKey()));
            } catch (NoSuchFileException e) {
                states.add(new FileState(file, -1, null, null));
            } catch (IOException e) {
                states.add(new FileState(file, -2, null, e.getMessage()));
            }
        }
        return states;
    }
}
