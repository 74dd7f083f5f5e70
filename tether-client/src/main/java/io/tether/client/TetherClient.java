package io.tether.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A client of one Tether server (HTTP API v1): every operation of the API, typed, plus
 * {@linkplain #autoSession(String) automatic sessions}. Build one with {@link #builder()}.
 *
 * <p><b>One connection pool.</b> All calls of a client, from any number of threads and
 * automatic sessions, go through one {@link HttpClient} and so share its pool of
 * keep-alive connections: sequential calls reuse one TCP connection. Create one client
 * per server and application, and share it; it is immutable and thread-safe. It may be
 * given an existing {@code HttpClient} (then it never closes it) or an {@link Executor}
 * for the {@code HttpClient} it builds (then it never shuts that down).
 *
 * <p><b>Blocking.</b> Every method blocks the calling thread until the answer is there,
 * except {@link #publisher}, and {@link #stream} returns once the execution has started.
 * Failures are {@link TetherClientException}s with a stable code; calls that are safe to
 * retry are retried by the {@link RetryPolicy}. Calling a closed client throws
 * {@link IllegalStateException}.
 *
 * <p><b>Durations.</b> {@code null} means "the server's default" and {@link #NEVER} means
 * "no limit", wherever a duration is optional.
 */
public final class TetherClient implements AutoCloseable {
    /** A duration meaning "never" / "no limit" (for timeouts and lifetimes). */
    public static final Duration NEVER = ChronoUnit.FOREVER.getDuration();

    private final URI baseUrl;
    private final HttpPool pool;
    private final HttpApi api;
    private final HttpApi.CallPolicy defaults;
    private final Set<AutoSession> autoSessions = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    private TetherClient(Builder b) {
        this.baseUrl = b.baseUrl;
        this.pool = b.httpClient != null ? HttpPool.external(b.httpClient)
                : HttpPool.own(or(b.connectTimeout, Duration.ofSeconds(10)), b.executor);
        Transport transport = new Transport(pool.http, b.baseUrl, b.token,
                or(b.userAgent, Builder.defaultUserAgent()), or(b.sleeper, Transport.Sleeper.REAL));
        this.api = new HttpApi(transport, or(b.requestTimeout, Duration.ofSeconds(30)));
        this.defaults = new HttpApi.CallPolicy(or(b.retryPolicy, RetryPolicy.DEFAULT),
                or(b.listener, TetherListener.NONE), or(b.streamTimeout, Duration.ofSeconds(60)), null, false);
    }

    private static <T> T or(T value, T otherwise) {
        return value != null ? value : otherwise;
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- sessions

    /**
     * Creates a session ({@code POST /v1/sessions}). With a {@link NewSession#key()} this is
     * get-or-create: the owner's active session with that key comes back if there is one.
     */
    public Session createSession(NewSession spec) {
        return api.createSession(spec, defaults);
    }

    /** Creates a session of this runtime ({@code python}, {@code jshell}, or {@code none} for a plain one). */
    public Session createSession(String runtime) {
        return createSession(NewSession.of(runtime));
    }

    /** One session, also an ended one ({@code session_not_found} when unknown or another owner's). */
    public Session session(String sessionId) {
        return api.session(sessionId, defaults);
    }

    /** One page of the sessions the token may see, newest first. */
    public SessionPage sessions(SessionQuery query) {
        return api.sessions(Objects.requireNonNull(query, "query"), defaults);
    }

    /**
     * Merges data and metadata into a session (RFC 7386: a {@code null} value removes a
     * key); either may be {@code null} to leave it. Counts as activity.
     */
    public Session updateSession(String sessionId, Map<String, ?> data, Map<String, ?> metadata) {
        return api.updateSession(sessionId, data, metadata, defaults);
    }

    /** Records activity, which postpones idle expiry. */
    public Session touch(String sessionId) {
        return api.touch(sessionId, defaults);
    }

    /** Ends a session with reason {@code manual}; idempotent (an ended session stays as it ended). */
    public Session endSession(String sessionId) {
        return endSession(sessionId, "manual");
    }

    /** Ends a session with a reason ({@code [a-z][a-z0-9_]*}); idempotent. */
    public Session endSession(String sessionId, String reason) {
        ensureOpen();
        return api.endSession(sessionId, Wire.nonBlank("reason", reason), defaults);
    }

    // ---------------------------------------------------------------- executions

    /** Runs code in a session and returns how it ended; see {@link #execute(String, ExecuteRequest)}. */
    public Execution execute(String sessionId, String code) {
        return execute(sessionId, ExecuteRequest.of(code));
    }

    /**
     * Runs code in a session and returns how it ended. A failure inside the interpreter is
     * the execution's status, not an exception. Waits for the answer up to the request's
     * timeout plus the client's request timeout; without a timeout, as long as it takes
     * (the server stops the code after its {@code execution_timeout}).
     */
    public Execution execute(String sessionId, ExecuteRequest request) {
        return api.execute(sessionId, request, defaults);
    }

    /**
     * Runs code in a session and returns its events as they happen; returns once the
     * execution has started. Close the stream if you stop reading before its end.
     */
    public ExecutionStream stream(String sessionId, ExecuteRequest request) {
        return api.stream(sessionId, request, defaults);
    }

    /**
     * Runs code in a new session of {@code runtime} that the server creates for this call
     * ({@code POST /v1/execute} without a session): one round trip instead of two. The
     * result's {@link Execution#sessionId()} names the session, for the next call; it stays
     * until it ends by idle timeout or {@link #endSession}. Like every execution it is not
     * retried once it may have reached the server.
     */
    public Execution executeInNewSession(String runtime, ExecuteRequest request) {
        return api.autoExecute(null, Wire.nonBlank("runtime", runtime), request, defaults);
    }

    /**
     * Like {@link #executeInNewSession}, streamed: returns once the execution has started,
     * with the new session's id in {@link ExecutionStream#sessionId()}.
     */
    public ExecutionStream streamInNewSession(String runtime, ExecuteRequest request) {
        return api.autoStream(null, Wire.nonBlank("runtime", runtime), request, defaults, true);
    }

    /**
     * The events of running code in a session, as a {@link Flow.Publisher}: the code runs
     * when a subscriber subscribes (one subscriber only), and events follow its demand.
     * Signals come from a virtual thread of the client.
     */
    public Flow.Publisher<ExecutionEvent> publisher(String sessionId, ExecuteRequest request) {
        Objects.requireNonNull(request, "request");
        return new EventPublisher(() -> stream(sessionId, request));
    }

    /**
     * A past (or running) execution by number, with its code and times: also one whose
     * caller went away. Sessions keep their newest executions ({@code not_found} for older).
     */
    public Execution execution(String sessionId, long number) {
        return api.execution(sessionId, number, defaults);
    }

    /**
     * One page of a session's execution history, newest first: the running execution and the
     * kept ones ({@code GET /v1/sessions/{id}/executions?output=true}), also of an ended session.
     *
     * @param limit 1 to 1000
     * @param cursor {@code null} for the first page, else the previous page's {@link ExecutionPage#nextCursor()}
     */
    public ExecutionPage executions(String sessionId, int limit, String cursor) {
        return api.executions(sessionId, limit, cursor, defaults);
    }

    /** Interrupts the code running in a session; its namespace stays. Never retried once sent. */
    public void interrupt(String sessionId) {
        api.interrupt(sessionId, defaults);
    }

    /**
     * What may be typed at {@code cursor} in {@code code}, from the session's live namespace
     * (Tab completion). Refused with {@code session_busy} (409) while the session runs code.
     *
     * @param cursor a position in {@code code} in Unicode code points, 0 to its length
     */
    public Completion complete(String sessionId, String code, int cursor) {
        return api.complete(sessionId, code, cursor, defaults);
    }

    /**
     * The signature and documentation of the name at {@code cursor} in {@code code}, from the
     * session's live namespace; as {@link #complete} otherwise.
     */
    public Inspection inspect(String sessionId, String code, int cursor) {
        return api.inspect(sessionId, code, cursor, defaults);
    }

    /**
     * Answers the input request of the session's streamed execution
     * ({@link ExecutionEvent.InputRequest}): {@code value} is the line its code reads, without
     * a line end. Never retried once sent.
     *
     * @throws TetherClientException {@code no_input_requested} when the execution does not wait
     *     for input (any more); {@code invalid_request} for a value with a line break
     */
    public void input(String sessionId, String value) {
        api.input(sessionId, value, defaults);
    }

    /** Gives a session a fresh interpreter (same session, same files). Never retried once sent. */
    public Session restart(String sessionId) {
        return api.restart(sessionId, defaults);
    }

    // ---------------------------------------------------------------- files

    /** Lists a session's working directory, recursively. */
    public FileListing files(String sessionId) {
        return api.files(sessionId, defaults);
    }

    /** Downloads a file of a session's working directory ({@code not_found} when missing). */
    public byte[] download(String sessionId, String path) {
        return api.download(sessionId, path, defaults);
    }

    /**
     * Uploads a file into a session's working directory, making directories as needed.
     *
     * @return {@code true} when the file is new, {@code false} when it replaced one
     */
    public boolean upload(String sessionId, String path, byte[] content) {
        return api.upload(sessionId, path, content, defaults);
    }

    /** Deletes a file or an empty directory of a session's working directory. */
    public void deleteFile(String sessionId, String path) {
        api.deleteFile(sessionId, path, defaults);
    }

    // ---------------------------------------------------------------- server

    /** The runtimes the server offers, with their warm pools' figures. */
    public List<RuntimeInfo> runtimes() {
        return api.runtimes(defaults);
    }

    /** Session counts: the whole server for an admin token, the caller's own otherwise. */
    public ServerStats stats() {
        return api.stats(defaults);
    }

    /**
     * Whether the server is up and not shutting down ({@code GET /healthz}, not retried).
     *
     * @throws TetherClientException when it cannot be reached
     */
    public boolean healthy() {
        return api.healthy();
    }

    // ---------------------------------------------------------------- automatic sessions

    /**
     * A handle on an automatic session of this runtime with the default settings; nothing
     * is created until its first call. See {@link AutoSession}.
     */
    public AutoSession autoSession(String runtime) {
        return autoSession(runtime, AutoSessionSettings.DEFAULTS);
    }

    /** A handle on an automatic session of this runtime; nothing is created until its first call. */
    public AutoSession autoSession(String runtime, AutoSessionSettings settings) {
        return autoSession(NewSession.of(Wire.nonBlank("runtime", runtime)), false, settings);
    }

    /**
     * A handle on an automatic session created from {@code spec} (idle timeout, data, key…)
     * with {@code POST /v1/sessions} on its first call; nothing is created before.
     */
    public AutoSession autoSession(NewSession spec, AutoSessionSettings settings) {
        return autoSession(spec, true, settings);
    }

    private AutoSession autoSession(NewSession spec, boolean explicitCreate, AutoSessionSettings settings) {
        ensureOpen();
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(settings, "settings");
        HttpApi.CallPolicy p = new HttpApi.CallPolicy(or(settings.retryPolicy(), defaults.retry()),
                or(settings.listener(), defaults.listener()), or(settings.streamTimeout(), defaults.streamTimeout()),
                settings.callTimeout(), settings.idempotent());
        AutoSession a = new AutoSession(api, spec, explicitCreate, settings.onLost(), p, autoSessions::remove);
        autoSessions.add(a);
        return a;
    }

    // ---------------------------------------------------------------- closing

    /**
     * Closes the client: refuses new calls, ends the sessions of its automatic sessions
     * that are still open, stops open event streams, and — only if the client built its
     * {@code HttpClient} — shuts that down: requests still in flight get 5 s, then are
     * aborted, and the call returns when its threads have ended and its connections are
     * closed. A given {@code HttpClient} or executor is left open. Idempotent.
     *
     * @throws TetherClientException when an automatic session could not be ended (the
     *     client is closed all the same; the session expires by its idle timeout)
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        api.close();
        TetherClientException failure = null;
        try {
            for (AutoSession a : List.copyOf(autoSessions)) {
                try {
                    a.close();
                } catch (TetherClientException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
        } finally {
            pool.close();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The server this client calls; never the token. */
    @Override
    public String toString() {
        return "TetherClient[" + baseUrl + (pool.ownsClient() ? "" : ", external HttpClient") + "]";
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("this TetherClient is closed");
        }
    }

    /**
     * Builds a {@link TetherClient}; not thread-safe. Every option may be set once; only
     * the base URL is required.
     */
    public static final class Builder {
        private URI baseUrl;
        private String token;
        private Duration connectTimeout;
        private Duration requestTimeout;
        private Duration streamTimeout;
        private RetryPolicy retryPolicy;
        private String userAgent;
        private HttpClient httpClient;
        private Executor executor;
        private TetherListener listener;
        private Transport.Sleeper sleeper;

        private Builder() {
        }

        /**
         * The server, e.g. {@code http://127.0.0.1:8080}: {@code http} or {@code https}, a
         * host, optionally a port and a path prefix (for a server behind a proxy); no query.
         */
        public Builder baseUrl(String baseUrl) {
            Wire.nonBlank("baseUrl", baseUrl);
            try {
                return baseUrl(new URI(baseUrl.strip()));
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("baseUrl is not a URL: " + e.getMessage(), e);
            }
        }

        /** The server; see {@link #baseUrl(String)}. */
        public Builder baseUrl(URI baseUrl) {
            Objects.requireNonNull(baseUrl, "baseUrl");
            String scheme = baseUrl.getScheme();
            if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)) {
                throw new IllegalArgumentException("baseUrl must be an http or https URL, got " + baseUrl);
            }
            if (baseUrl.getHost() == null) {
                throw new IllegalArgumentException("baseUrl has no host: " + baseUrl);
            }
            if (baseUrl.getRawQuery() != null || baseUrl.getRawFragment() != null || baseUrl.getRawUserInfo() != null) {
                throw new IllegalArgumentException("baseUrl must have no query, fragment or user info: " + baseUrl);
            }
            this.baseUrl = Wire.once("baseUrl", this.baseUrl, baseUrl);
            return this;
        }

        /**
         * The bearer token ({@code Authorization: Bearer …}). Without one no token is sent,
         * for a server started with {@code auth = none}.
         */
        public Builder token(String token) {
            Wire.nonBlank("token", token);
            for (char c : token.toCharArray()) {
                if (c <= ' ' || c >= 0x7f) {
                    throw new IllegalArgumentException("token must be printable ASCII without spaces");
                }
            }
            this.token = Wire.once("token", this.token == null ? null : "(a token)", token);
            return this;
        }

        /** How long connecting may take; default 10 s. Only for the {@code HttpClient} the client builds. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = Wire.once("connectTimeout", this.connectTimeout,
                    Wire.positive("connectTimeout", connectTimeout));
            return this;
        }

        /**
         * How long to wait for an answer; default 30 s. An execution waits its own timeout
         * plus this (see {@link #execute(String, ExecuteRequest)}).
         */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = Wire.once("requestTimeout", this.requestTimeout,
                    Wire.positive("requestTimeout", requestTimeout));
            return this;
        }

        /**
         * How long an event stream may stay silent (no event, no keep-alive) before the
         * client gives up on it; default 60 s, four of the server's keep-alive intervals.
         */
        public Builder streamTimeout(Duration streamTimeout) {
            this.streamTimeout = Wire.once("streamTimeout", this.streamTimeout,
                    Wire.positive("streamTimeout", streamTimeout));
            return this;
        }

        /** When and how calls are retried; default {@link RetryPolicy#DEFAULT}. */
        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Wire.once("retryPolicy", this.retryPolicy, Objects.requireNonNull(retryPolicy,
                    "retryPolicy"));
            return this;
        }

        /** The {@code User-Agent} header; default {@code tether-client/<version> Java/<version>}. */
        public Builder userAgent(String userAgent) {
            Wire.nonBlank("userAgent", userAgent);
            if (userAgent.indexOf('\r') >= 0 || userAgent.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("userAgent must be one line");
            }
            this.userAgent = Wire.once("userAgent", this.userAgent, userAgent);
            return this;
        }

        /**
         * An {@code HttpClient} to send through instead of building one: the application's
         * own pool. The client never closes it. Its own settings (connect timeout,
         * executor, version, proxy, TLS) apply, so {@link #connectTimeout} and
         * {@link #executor} cannot be set with it.
         */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = Wire.once("httpClient", this.httpClient, Objects.requireNonNull(httpClient,
                    "httpClient"));
            return this;
        }

        /**
         * The executor for the {@code HttpClient} the client builds (its asynchronous
         * work); the client never shuts it down. Default: a cached pool of daemon threads
         * named {@code tether-client-N-http-M}, shut down on {@link TetherClient#close()}.
         */
        public Builder executor(Executor executor) {
            this.executor = Wire.once("executor", this.executor, Objects.requireNonNull(executor, "executor"));
            return this;
        }

        /** Hears retries (and, for automatic sessions without their own, session events). */
        public Builder listener(TetherListener listener) {
            this.listener = Wire.once("listener", this.listener, Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** For tests: how retries wait. */
        Builder sleeper(Transport.Sleeper sleeper) {
            this.sleeper = Wire.once("sleeper", this.sleeper, sleeper);
            return this;
        }

        /**
         * Builds the client (and its {@code HttpClient}, unless one was given).
         *
         * @throws IllegalStateException without a base URL, or with an {@code HttpClient}
         *     together with a connect timeout or an executor
         */
        public TetherClient build() {
            if (baseUrl == null) {
                throw new IllegalStateException("baseUrl is required, e.g. http://127.0.0.1:8080");
            }
            if (httpClient != null && (connectTimeout != null || executor != null)) {
                throw new IllegalStateException("connectTimeout and executor configure the HttpClient the client "
                        + "builds; with httpClient(...) set them on that HttpClient instead");
            }
            return new TetherClient(this);
        }

        private static String defaultUserAgent() {
            String version = TetherClient.class.getPackage().getImplementationVersion();
            return "tether-client/" + (version != null ? version : "dev") + " Java/" + Runtime.version().feature();
        }
    }
}
