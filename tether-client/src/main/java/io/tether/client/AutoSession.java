package io.tether.client;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A session that looks after itself: obtained without creating anything
 * ({@link TetherClient#autoSession(String)}), created by its first call, reused by every
 * later one (its id travels as {@code Tether-Session} on each request), and ended by
 * {@link #close()} — use try-with-resources, so it ends also when the caller's code throws.
 *
 * <pre>{@code
 * try (AutoSession py = client.autoSession("python")) {
 *     py.execute("import math\nr = 2");
 *     Execution e = py.execute("math.pi * r ** 2");   // same interpreter: r is still 2
 *     System.out.println(e.text());
 * }                                                   // the session ends here
 * }</pre>
 *
 * <p><b>The first call</b> of an execution creates the session and runs the code in one
 * request ({@code POST /v1/execute} without {@code Tether-Session}); a handle built from a
 * {@link NewSession} (idle timeout, data, key…) and every other first call create it with
 * {@code POST /v1/sessions} first. Its result says {@link Execution#newSession()}. Calls
 * from several threads are fine: the first one creates the session while the others
 * wait for it, then they run side by side (the server runs one session's code one
 * execution at a time, in arrival order).
 *
 * <p><b>A lost session</b> — the server answers {@code 410 session_ended} (expired, ended
 * elsewhere, crashed) or {@code 404 session_not_found} — is handled by the
 * {@link LostSessionPolicy} of its {@link AutoSessionSettings}: {@code FAIL} (the default)
 * throws, {@code RECREATE} runs the call in a new session and says so. Its state is never
 * pretended to have survived. The call that found out had not run, so running it again
 * in a new session runs it once.
 *
 * <p>Thread-safe. Each method blocks like the {@link TetherClient} method it stands for.
 */
public final class AutoSession implements AutoCloseable {
    private final HttpApi api;
    private final NewSession spec;
    private final boolean explicitCreate;
    private final LostSessionPolicy onLost;
    private final HttpApi.CallPolicy policy;
    private final Consumer<AutoSession> onClose;
    /** Held while a session is being created, so that concurrent first calls make one session. */
    private final ReentrantLock starting = new ReentrantLock();
    private final AtomicReference<String> current = new AtomicReference<>();
    /** A session lost under {@code FAIL}, reported as replaced when the next one starts. */
    private volatile String lostUnderFail;
    private volatile boolean closed;

    /** One call in the session, and how to run it while the session is created. */
    private interface SessionCall<T> {
        T in(String sessionId, boolean newSession);

        /** Runs it in one request that also creates the session; {@code null} when it cannot. */
        default Created<T> createAndRun() {
            return null;
        }
    }

    private record Created<T>(String sessionId, T value) {
    }

    AutoSession(HttpApi api, NewSession spec, boolean explicitCreate, LostSessionPolicy onLost,
                HttpApi.CallPolicy policy, Consumer<AutoSession> onClose) {
        this.api = api;
        this.onClose = onClose;
        this.spec = spec;
        this.explicitCreate = explicitCreate;
        this.onLost = onLost;
        this.policy = policy;
    }

    /** The current session's id; empty before the first call, after a loss, and after close. Creates nothing. */
    public Optional<String> sessionId() {
        return Optional.ofNullable(current.get());
    }

    /** Runs code in the session, creating it on the first call; see {@link #execute(ExecuteRequest)}. */
    public Execution execute(String code) {
        return execute(ExecuteRequest.of(code));
    }

    /**
     * Runs code in the session, creating it on the first call; otherwise like
     * {@link TetherClient#execute(String, ExecuteRequest)}.
     */
    public Execution execute(ExecuteRequest request) {
        Objects.requireNonNull(request, "request");
        return call(new SessionCall<>() {
            @Override
            public Execution in(String sessionId, boolean newSession) {
                Execution e = api.autoExecute(sessionId, null, request, policy);
                return newSession ? e.asNewSession() : e;
            }

            @Override
            public Created<Execution> createAndRun() {
                Execution e = api.autoExecute(null, spec.runtime(), request, policy);
                return new Created<>(e.sessionId(), e);
            }
        });
    }

    /** Runs code in the session and returns its events as they happen; see {@link TetherClient#stream}. */
    public ExecutionStream stream(String code) {
        return stream(ExecuteRequest.of(code));
    }

    /** Runs code in the session and returns its events as they happen; see {@link TetherClient#stream}. */
    public ExecutionStream stream(ExecuteRequest request) {
        Objects.requireNonNull(request, "request");
        return call(new SessionCall<>() {
            @Override
            public ExecutionStream in(String sessionId, boolean newSession) {
                return api.autoStream(sessionId, null, request, policy, newSession);
            }

            @Override
            public Created<ExecutionStream> createAndRun() {
                ExecutionStream s = api.autoStream(null, spec.runtime(), request, policy, true);
                return new Created<>(s.sessionId(), s);
            }
        });
    }

    /** The events of running code in the session, when subscribed; see {@link TetherClient#publisher}. */
    public Flow.Publisher<ExecutionEvent> publisher(ExecuteRequest request) {
        Objects.requireNonNull(request, "request");
        return new EventPublisher(() -> stream(request));
    }

    /**
     * The session as the server sees it now (creating it if there is none yet). A session
     * that has left {@code active} counts as lost.
     */
    public Session session() {
        return call((sessionId, newSession) -> {
            Session s = api.session(sessionId, policy);
            if (!s.isActive()) {
                throw TetherClientException.problem("session_ended", 410, "session '" + sessionId + "' is "
                        + s.status().name().toLowerCase(java.util.Locale.ROOT) + " (" + s.endReason() + ")", null);
            }
            return s;
        });
    }

    /** Merges data and metadata into the session; see {@link TetherClient#updateSession}. */
    public Session update(Map<String, ?> data, Map<String, ?> metadata) {
        return call((sessionId, newSession) -> api.updateSession(sessionId, data, metadata, policy));
    }

    /** Records activity, postponing idle expiry. */
    public Session touch() {
        return call((sessionId, newSession) -> api.touch(sessionId, policy));
    }

    /**
     * Answers the input request of the session's streamed execution; see
     * {@link TetherClient#input}. Without a session nothing waits: {@code no_input_requested}.
     */
    public void input(String value) {
        ensureOpen();
        String id = current.get();
        if (id == null) {
            throw TetherClientException.local("no_input_requested",
                    "the session has not started: nothing waits for input", true, false, null);
        }
        api.input(id, value, policy);
    }

    /**
     * Interrupts the code running in the session. Without a session nothing runs, so
     * nothing is created; a lost session is reported as usual (and not replaced).
     */
    public void interrupt() {
        ensureOpen();
        String id = current.get();
        if (id == null) {
            return;
        }
        try {
            api.interrupt(id, policy);
        } catch (TetherClientException e) {
            if (!e.sessionGone()) {
                throw e;
            }
            lost(id, e);
            if (onLost == LostSessionPolicy.FAIL) {
                throw lostError(id, e);
            }
        }
    }

    /** Gives the session a fresh interpreter: its namespace is emptied, the session and files stay. */
    public Session restart() {
        return call((sessionId, newSession) -> api.restart(sessionId, policy));
    }

    /**
     * Ends the session (reason {@code manual}), if one was created; idempotent. Waits for a
     * call that is creating the session, so that session is ended too. A session the
     * server no longer knows needs no ending.
     *
     * @throws TetherClientException when the server cannot be reached to end it (it then
     *     expires by its idle timeout)
     */
    @Override
    public void close() {
        starting.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            starting.unlock();
        }
        onClose.accept(this);
        String id = current.getAndSet(null);
        if (id == null) {
            return;
        }
        try {
            api.endSession(id, "manual", policy);
        } catch (TetherClientException e) {
            if (!e.sessionGone()) {
                throw e;
            }
            // the server does not know it (any more): there is nothing left to end
        }
        policy.listener().sessionEnded(id);
    }

    @Override
    public String toString() {
        return "AutoSession[" + (spec.runtime() != null ? spec.runtime() : "none") + ", "
                + (closed ? "closed" : current.get() != null ? current.get() : "no session yet") + "]";
    }

    private <T> T call(SessionCall<T> call) {
        ensureOpen();
        String id = current.get();
        if (id == null) {
            return start(call, null);
        }
        try {
            return call.in(id, false);
        } catch (TetherClientException e) {
            if (!e.sessionGone()) {
                throw e;
            }
            lost(id, e);
            if (onLost == LostSessionPolicy.FAIL) {
                throw lostError(id, e);
            }
            return start(call, id);
        }
    }

    /** Creates the session and runs the call in it; {@code replacing} is the lost session it replaces. */
    private <T> T start(SessionCall<T> call, String replacing) {
        starting.lock();
        try {
            ensureOpen();
            String id = current.get();
            if (id != null) { // another thread started one while this one waited
                return call.in(id, replacing != null);
            }
            String replaces = replacing != null ? replacing : lostUnderFail;
            if (!explicitCreate) {
                Created<T> c = call.createAndRun();
                if (c != null) {
                    adopt(c.sessionId(), replaces);
                    return c.value();
                }
            }
            String created = api.createSession(spec, policy).id();
            adopt(created, replaces);
            return call.in(created, true);
        } finally {
            starting.unlock();
        }
    }

    private void adopt(String sessionId, String replaces) {
        current.set(sessionId);
        lostUnderFail = null;
        policy.listener().sessionStarted(sessionId, replaces);
    }

    private void lost(String sessionId, TetherClientException cause) {
        if (current.compareAndSet(sessionId, null)) { // once, though several threads may find out
            if (onLost == LostSessionPolicy.FAIL) {
                lostUnderFail = sessionId;
            }
            policy.listener().sessionLost(sessionId, cause);
        }
    }

    private static TetherClientException lostError(String sessionId, TetherClientException cause) {
        return new TetherClientException(cause.code(), cause.status(), "the automatic session '" + sessionId
                + "' is gone (" + cause.detail() + "); its state is lost and the call did not run. The next call "
                + "starts a new session.", null, false, false, cause);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this automatic session is closed");
        }
    }
}
