package dev.bulwark.gateway.network;

import dev.bulwark.acl.quota.QuotaManager;
import dev.bulwark.auth.AuthenticatedPrincipal;
import dev.bulwark.gateway.protocol.ApiRegistry;
import dev.bulwark.gateway.protocol.Reply;
import dev.bulwark.gateway.protocol.Request;
import dev.bulwark.gateway.protocol.RequestPipeline;
import dev.bulwark.gateway.quota.ThrottleTimeField;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Context;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.NetSocketInternal;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * One client connection: frames in, responses out in request order.
 *
 * <p>Threads: bytes arrive and frames are cut on the connection's event loop; each request is parsed and handled on
 * the request pool, one at a time per connection in arrival order ({@link SerialExecutor}); handlers complete
 * whenever their answer is ready (after an fsync, a long poll) on whatever thread that is, and the event loop writes
 * the responses in request order regardless. Reading pauses while too many requests are in flight or the socket's
 * write queue is full (back-pressure), and while the connection is muted: for the throttle time of a response sent to
 * a client over its quota, as Kafka mutes a throttled channel (KIP-219), and while a connection over its tenant's
 * connection_creation_rate is held back after authenticating. Reading resumes only when neither holds.
 */
final class KafkaConnection {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaConnection.class);

    /** Requests read ahead of their responses before the connection stops reading. */
    static final int MAX_IN_FLIGHT = 64;

    private final NetSocketInternal socket;
    private final Context context;
    private final String connectionId;
    private final Request.Listener listener;
    private final SecurityProtocol securityProtocol;
    private final KafkaListener.Settings settings;
    private final ApiRegistry apis;
    private final RequestPipeline pipeline;
    private final FrameDecoder decoder;
    private final SerialExecutor executor;
    private final InetAddress clientAddress;
    private final String remote;
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private volatile ClientInformation clientInformation = ClientInformation.EMPTY;
    private final AuthenticatedPrincipal principal;
    private final SaslSession sasl;
    /** The place of a connection that does not use SASL among its tenant's connections; null with SASL. */
    private final TenantConnections.Slot slot;
    private final QuotaManager quotas;
    /** Event loop only: too many requests in flight, or the write queue is full. */
    private boolean backPressured;
    /** Event loop only: throttled until the mute timer fires. */
    private boolean muted;
    private long mutedUntilNanos;
    private long muteTimer = -1;
    /** Event loop only: whether the socket is paused now, for either reason. */
    private boolean socketPaused;
    private volatile boolean closed;

    /** A request awaiting its turn to be answered; a raw SASL token has no header. */
    private static final class InFlight {
        final RequestHeader header;
        Reply reply;
        /** How long to mute the connection after the reply, besides its throttle time; set before the reply. */
        int muteMs;

        InFlight(RequestHeader header) {
            this.header = header;
        }
    }

    /**
     * @param principal who the connection is when it does not authenticate with SASL (anonymous, or the TLS client
     *                  certificate's principal)
     * @param sasl      the SASL exchange of a SASL listener's connection, or null
     * @param slot      without SASL, the connection's place among its principal's tenant's connections, given back
     *                  when it closes; null with SASL, whose session takes one when it authenticates
     * @param quotas    the tenants' connection_creation_rate, counted when the connection's principal is known
     */
    KafkaConnection(NetSocketInternal socket, Context context, String connectionId, Request.Listener listener,
                    SecurityProtocol securityProtocol, KafkaListener.Settings settings, ApiRegistry apis,
                    RequestPipeline pipeline, Executor requestPool, AuthenticatedPrincipal principal, SaslSession sasl,
                    TenantConnections.Slot slot, QuotaManager quotas) {
        this.socket = socket;
        this.context = context;
        this.connectionId = connectionId;
        this.listener = listener;
        this.securityProtocol = securityProtocol;
        this.settings = settings;
        this.apis = apis;
        this.pipeline = pipeline;
        this.principal = principal;
        this.sasl = sasl;
        this.slot = slot;
        this.quotas = quotas;
        this.decoder = new FrameDecoder(settings.maxRequestBytes(), ByteBufAllocator.DEFAULT);
        this.executor = new SerialExecutor(requestPool);
        SocketAddress address = socket.remoteAddress();
        this.remote = address == null ? "unknown" : address.host() + ":" + address.port();
        this.clientAddress = resolve(address);
    }

    private static InetAddress resolve(SocketAddress address) {
        try {
            return address == null || address.host() == null ? InetAddress.getLoopbackAddress()
                    : InetAddress.getByName(address.host());
        } catch (UnknownHostException e) {
            return InetAddress.getLoopbackAddress();
        }
    }

    void start() {
        socket.messageHandler(message -> onMessage((ByteBuf) message));
        socket.closeHandler(ignored -> onClosed());
        socket.exceptionHandler(error -> {
            LOG.debug("connection {} from {} failed: {}", connectionId, remote, error.toString());
            close();
        });
        socket.drainHandler(ignored -> maybeResume());
        LOG.debug("connection {} from {} on {}", connectionId, remote, listener.name());
        if (sasl == null) {
            // The principal is known from the start (anonymous, or the client certificate's).
            holdBack(quotas.recordTenantConnection(principal.tenantId()));
        }
    }

    // ---------------------------------------------------------------- event loop: frames in

    private void onMessage(ByteBuf bytes) {
        try {
            if (!closed) {
                decoder.decode(bytes, this::onFrame);
            }
        } catch (FrameDecoder.InvalidFrameException e) {
            LOG.warn("closing connection from {}: {}", remote, e.getMessage());
            close();
        } finally {
            bytes.release();
        }
    }

    private void onFrame(ByteBuf frame) {
        if (closed) {
            frame.release();
            return;
        }
        ByteBuffer buffer = frame.nioBuffer();
        if (sasl != null && sasl.expectsRawToken()) {
            InFlight slot = enqueue(null);
            try {
                executor.execute(() -> processRawToken(slot, frame, buffer));
            } catch (RejectedExecutionException e) {
                frame.release();
                close();
            }
            return;
        }
        RequestHeader header;
        try {
            header = RequestHeader.parse(buffer);
        } catch (RuntimeException e) {
            frame.release();
            LOG.warn("closing connection from {}: invalid request header ({})", remote, e.getMessage());
            close();
            return;
        }
        Optional<ApiRegistry.Registration> api = apis.lookup(header.apiKey());
        if (api.isEmpty() || !api.get().supports(header.apiVersion())) {
            frame.release();
            if (header.apiKey() == ApiKeys.API_VERSIONS && api.isPresent()) {
                // KIP-511: answer with version 0 and our table so the client can pick a version we serve.
                InFlight slot = enqueue(header);
                complete(slot, Reply.of(new ApiVersionsResponseData()
                        .setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(apis.versions())));
                return;
            }
            LOG.warn("closing connection from {} (client {}): {} v{} is not served here", remote, header.clientId(),
                    header.apiKey(), header.apiVersion());
            close();
            return;
        }
        InFlight slot = enqueue(header);
        try {
            executor.execute(() -> process(slot, frame, buffer));
        } catch (RejectedExecutionException e) {
            frame.release();
            close();
        }
    }

    private InFlight enqueue(RequestHeader header) {
        InFlight slot = new InFlight(header);
        int waiting;
        synchronized (inFlight) {
            inFlight.addLast(slot);
            waiting = inFlight.size();
        }
        if (waiting >= MAX_IN_FLIGHT && !backPressured) {
            backPressured = true;
            updateReading();
        }
        return slot;
    }

    // ---------------------------------------------------------------- request pool: parse and handle

    private void process(InFlight slot, ByteBuf frame, ByteBuffer buffer) {
        RequestHeader header = slot.header;
        Request request;
        try {
            AbstractRequest body = AbstractRequest.parseRequest(header.apiKey(), header.apiVersion(),
                    new ByteBufferAccessor(buffer)).request;
            if (body.data() instanceof ApiVersionsRequestData versions && header.apiVersion() >= 3) {
                clientInformation = new ClientInformation(versions.clientSoftwareName(),
                        versions.clientSoftwareVersion());
            }
            SaslSession.Admission admission = sasl == null ? SaslSession.Admission.SERVE
                    : sasl.admit(header.apiKey(), header.apiVersion());
            if (admission == SaslSession.Admission.REFUSE) {
                frame.release();
                LOG.warn("closing connection {} from {} (client {}): {}", connectionId, remote, header.clientId(),
                        sasl.refusal());
                complete(slot, new Reply.Close(sasl.refusal()));
                return;
            }
            AuthenticatedPrincipal sender = sasl == null ? principal
                    : sasl.principal() == null ? AuthenticatedPrincipal.anonymous("SASL") : sasl.principal();
            RequestContext context = new RequestContext(header, connectionId, clientAddress,
                    new KafkaPrincipal(KafkaPrincipal.USER_TYPE, sender.user()),
                    ListenerName.normalised(listener.name()), securityProtocol, clientInformation, false);
            request = new Request(context, body, listener, sender);
            if (admission == SaslSession.Admission.EXCHANGE) {
                frame.release();
                boolean wasAuthenticated = sasl.principal() != null;
                sasl.exchange(request).whenComplete((reply, error) -> {
                    countAuthenticated(slot, wasAuthenticated);
                    complete(slot, error == null ? reply : closeOnFailure(request.apiKey(), request.version(), error));
                });
                return;
            }
        } catch (RuntimeException e) {
            frame.release();
            LOG.warn("closing connection from {} (client {}): malformed {} v{} request: {}", remote,
                    header.clientId(), header.apiKey(), header.apiVersion(), e.getMessage());
            complete(slot, new Reply.Close("malformed request"));
            return;
        }
        try {
            pipeline.process(request).whenComplete((reply, error) -> complete(slot, error == null ? reply
                    : closeOnFailure(request.apiKey(), request.version(), error)));
        } finally {
            frame.release();
        }
    }

    private void processRawToken(InFlight slot, ByteBuf frame, ByteBuffer token) {
        try {
            boolean wasAuthenticated = sasl.principal() != null;
            sasl.rawToken(token).whenComplete((reply, error) -> {
                countAuthenticated(slot, wasAuthenticated);
                complete(slot, error == null ? reply : closeOnFailure(ApiKeys.SASL_AUTHENTICATE, (short) 0, error));
            });
        } catch (RuntimeException e) {
            LOG.warn("closing connection {} from {}: unreadable SASL token: {}", connectionId, remote, e.toString());
            complete(slot, new Reply.Close("unreadable SASL token"));
        } finally {
            frame.release();
        }
    }

    /**
     * A first successful authentication counts against the tenant's connection_creation_rate; a connection over it is
     * held back (muted) after the answer, rather than refused, so the client just waits.
     */
    private void countAuthenticated(InFlight slot, boolean wasAuthenticated) {
        AuthenticatedPrincipal authenticated = sasl.principal();
        if (!wasAuthenticated && authenticated != null) {
            slot.muteMs = quotas.recordTenantConnection(authenticated.tenantId());
        }
    }

    private Reply closeOnFailure(ApiKeys api, short version, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        LOG.error("{} v{} from {} could not be answered; closing the connection", api, version, remote, cause);
        return new Reply.Close("internal error");
    }

    // ---------------------------------------------------------------- responses out, in order, on the event loop

    /**
     * Any thread: records a request's reply and hands every reply now at the head of the queue to the event loop, in
     * order. The socket is only ever touched on the event loop: Vert.x calls the drain handler holding the socket's
     * lock, so a request thread that held this queue's lock while writing could deadlock with it.
     */
    private void complete(InFlight slot, Reply reply) {
        synchronized (inFlight) {
            slot.reply = reply;
            List<InFlight> ready = null;
            while (!inFlight.isEmpty() && inFlight.peekFirst().reply != null) {
                if (ready == null) {
                    ready = new ArrayList<>(2);
                }
                ready.add(inFlight.pollFirst());
            }
            if (ready != null) {
                // Scheduled under the lock, so batches reach the event loop in the order they left the queue.
                List<InFlight> batch = ready;
                context.runOnContext(ignored -> deliver(batch));
            }
        }
    }

    private void deliver(List<InFlight> batch) {
        for (InFlight done : batch) {
            if (!closed) {
                send(done);
            } else if (done.reply instanceof Reply.Respond respond) {
                respond.release().run();
            }
        }
        maybeResume();
    }

    private void send(InFlight done) {
        if (done.reply instanceof Reply.Respond respond) {
            try {
                write(done.header, respond.body());
                holdBack(Math.max(done.muteMs, ThrottleTimeField.get(respond.body())));
            } finally {
                respond.release().run();
            }
        } else if (done.reply instanceof Reply.RespondAndClose last) {
            write(done.header, last.body());
            close();
        } else if (done.reply instanceof Reply.RawToken raw) {
            ByteBuf frame = ByteBufAllocator.DEFAULT.buffer(4 + raw.token().length);
            socket.writeMessage(frame.writeInt(raw.token().length).writeBytes(raw.token()));
            holdBack(done.muteMs);
        } else if (done.reply instanceof Reply.Close) {
            close();
        }
    }

    private void write(RequestHeader header, ApiMessage body) {
        short headerVersion = header.apiKey().responseHeaderVersion(header.apiVersion());
        short version = header.apiVersion();
        if (body instanceof ApiVersionsResponseData versions && versions.errorCode() == Errors.UNSUPPORTED_VERSION.code()
                && !apis.lookup(ApiKeys.API_VERSIONS).get().supports(version)) {
            version = 0;
        }
        ByteBuf frame;
        try {
            frame = ResponseEncoder.encode(ByteBufAllocator.DEFAULT, header.correlationId(), headerVersion, body,
                    version);
        } catch (RuntimeException e) {
            LOG.error("cannot encode the {} v{} response to {}; closing the connection", header.apiKey(),
                    header.apiVersion(), remote, e);
            close();
            return;
        }
        socket.writeMessage(frame);
        if (socket.writeQueueFull()) {
            backPressured = true;
            updateReading();
        }
    }

    /** Event loop: back-pressure ends once enough responses left and the socket's write queue drained. */
    private void maybeResume() {
        if (!backPressured || closed) {
            return;
        }
        int waiting;
        synchronized (inFlight) {
            waiting = inFlight.size();
        }
        if (waiting < MAX_IN_FLIGHT / 2 && !socket.writeQueueFull()) {
            backPressured = false;
            updateReading();
        }
    }

    /**
     * Event loop: mutes the connection for {@code ms} (nothing for 0); a mute already running longer is kept, a
     * shorter one is extended.
     */
    private void holdBack(int ms) {
        if (ms <= 0 || closed) {
            return;
        }
        long until = System.nanoTime() + ms * 1_000_000L;
        if (muted && until - mutedUntilNanos <= 0) {
            return;
        }
        if (muteTimer >= 0) {
            context.owner().cancelTimer(muteTimer);
        }
        muted = true;
        mutedUntilNanos = until;
        muteTimer = context.owner().setTimer(ms, ignored -> {
            muteTimer = -1;
            muted = false;
            updateReading();
        });
        updateReading();
    }

    /** Event loop: the socket reads exactly when neither back-pressure nor a mute holds it. */
    private void updateReading() {
        if (closed) {
            return;
        }
        boolean pause = backPressured || muted;
        if (pause != socketPaused) {
            socketPaused = pause;
            if (pause) {
                socket.pause();
            } else {
                socket.resume();
            }
        }
    }

    void close() {
        if (!closed) {
            closed = true;
            if (muteTimer >= 0) {
                context.owner().cancelTimer(muteTimer);
                muteTimer = -1;
            }
            socket.close();
        }
    }

    private void onClosed() {
        closed = true;
        decoder.release();
        if (sasl != null) {
            sasl.closed();
        }
        if (slot != null) {
            slot.release();
        }
        pipeline.connectionClosed(connectionId);
        LOG.debug("connection {} from {} closed", connectionId, remote);
    }
}
