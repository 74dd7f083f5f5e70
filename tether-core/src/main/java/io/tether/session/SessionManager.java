package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.resource.ResourceTracker;
import io.tether.runtime.Completion;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.Inspection;
import io.tether.runtime.OutputListener;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.store.InMemorySessionStore;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import io.tether.store.SessionStore;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heart of Tether: creates sessions, keeps the active ones in memory, expires them,
 * releases what they hold, and persists every change to its {@link SessionStore}.
 *
 * <p><b>Life.</b> {@link #builder()} gives an {@link ManagerState#INACTIVE} manager;
 * {@link #start()} recovers the store's active sessions and starts the reaper;
 * {@link #close()} refuses new work, ends or releases every live session, then closes the
 * store. Every operation except {@link #state()} and {@link #stats()} throws
 * {@code shutting_down} unless the manager is {@code ACTIVE}.
 *
 * <p><b>Durability.</b> Creates, updates and ends are stored before they return. Touches
 * are applied in memory at once and stored write-behind, coalesced by the store.
 *
 * <p><b>Expiry.</b> A session expires once it has been idle for its idle timeout or has
 * lived its max lifetime. The reaper ends expired sessions every reaper interval; any
 * operation that meets an expired session ends it first, so expiry never depends on when
 * the reaper last ran. Time comes from the injected {@link InstantSource}, truncated to
 * milliseconds.
 *
 * <p><b>Restart.</b> On start, active plain sessions (runtime {@code none}) found in the
 * store stay active: nothing they held needed this process. Active sessions of any other
 * runtime had a live worker in the process that died, so they end with {@code error} /
 * {@code node_lost}. On close, plain sessions are released (their resources closed, their
 * record kept active for the next start); the others end with {@code server_shutdown}.
 *
 * <p><b>Several nodes.</b> Over a store shared with other managers
 * ({@link SessionManagerBuilder#sharedStore()}), each serves the live sessions it holds (its
 * {@link #node()} is recorded on them) and answers {@code node_unavailable} for an active
 * session another node holds; {@link #takeOverNode}, {@link #takeOverSession} and
 * {@link #releaseLost} move sessions when a node is lost.
 *
 * <p><b>Callers.</b> Every operation on sessions has a form that takes the caller's
 * {@link Access}: a session of another owner does not exist for a caller that is not an
 * admin ({@code session_not_found}, and nothing about it changes). The forms without one act
 * as {@link Access#SYSTEM}, which sees every session: for an application that is the only
 * caller, and for the manager's own work.
 *
 * <p>Thread-safe: every method may be called from any number of threads. The manager owns
 * its store and closes it.
 */
public final class SessionManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionManager.class);

    private final LiveSessions sessions;
    private final ExecutionHistory history;
    private final Duration defaultIdleTimeout;
    private final Duration defaultMaxLifetime;
    private final Duration shutdownTimeout;
    private final Duration reaperInterval;
    private final Duration limitCheckInterval;
    private final Duration retention;
    private final Duration purgeInterval;
    private final DiskQuota diskQuota;
    private final String node;
    private final Map<String, SessionRuntime> runtimes;
    private final WorkerOptions workerOptions;
    private final WorkerLossPolicy workerLossPolicy;
    private final int maxQueuedExecutions;

    /** Sessions deleted per store call of the purge. */
    static final int PURGE_BATCH = 1000;
    /** How long completion and inspection wait for the interpreter (user code such as a property may run). */
    static final Duration QUERY_TIMEOUT = Duration.ofSeconds(5);

    private final ManagerGate gate = new ManagerGate();
    private volatile SessionReaper reaper;
    private volatile SessionReaper limitWatch;
    private volatile SessionReaper purge;

    SessionManager(SessionManagerBuilder b) {
        this.defaultIdleTimeout = b.idleTimeout;
        this.defaultMaxLifetime = b.maxLifetime;
        this.shutdownTimeout = b.shutdownTimeout;
        this.reaperInterval = b.reaperInterval;
        this.limitCheckInterval = b.limitCheckInterval;
        this.retention = b.retention;
        this.purgeInterval = b.purgeInterval;
        this.node = b.node;
        SessionLimits limits = new SessionLimits(b.maxSessions, b.maxSessionsPerOwner);
        SessionStore store = b.store != null ? b.store : new InMemorySessionStore();
        this.sessions = new LiveSessions(store, b.clock, limits, new WorkerShares(b.maxWorkersPerOwner),
                new SessionMetrics(b.registry, limits::total), b.listeners, b.cleanupTimeout, b.executionHistory,
                b.node, b.sharedStore);
        this.history = new ExecutionHistory(sessions, store);
        Map<String, SessionRuntime> byName = new java.util.LinkedHashMap<>();
        b.runtimes.forEach(r -> byName.put(r.name(), r));
        this.runtimes = Map.copyOf(byName);
        this.workerOptions = b.workerOptions;
        this.diskQuota = new DiskQuota(b.workerOptions.limits().diskQuotaBytes());
        this.workerLossPolicy = b.workerLossPolicy;
        this.maxQueuedExecutions = b.maxQueuedExecutions;
    }

    /** A builder with the defaults listed on its methods. */
    public static SessionManagerBuilder builder() {
        return new SessionManagerBuilder();
    }

    // ---------------------------------------------------------------- life

    /**
     * Recovers the store's active sessions (see the class comment) and starts the reaper.
     *
     * @return this manager, now {@link ManagerState#ACTIVE}
     * @throws IllegalStateException when it was started before
     */
    public SessionManager start() {
        gate.start();
        sessions.recover();
        if (!reaperInterval.isZero()) {
            reaper = new SessionReaper("tether-session-reaper", sessions::reapExpired, reaperInterval);
        }
        if (!limitCheckInterval.isZero() && (diskQuota.bytes() > 0 || workerOptions.limits().cpuTime() != null)
                && !runtimes.isEmpty()) {
            limitWatch = new SessionReaper("tether-limit-watch", sessions::checkLimits, limitCheckInterval);
        }
        if (retention != null && !purgeInterval.isZero()) {
            purge = new SessionReaper("tether-session-purge", this::purgeEnded, purgeInterval);
        }
        return this;
    }

    public ManagerState state() {
        return gate.state();
    }

    /**
     * Refuses new work, waits (bounded) for operations in flight, ends every live session
     * with a runtime ({@code server_shutdown}) and releases every plain one, then flushes
     * and closes the store. The whole close is bounded by the shutdown timeout; resources
     * still closing then are abandoned and logged. Idempotent; concurrent callers all
     * return once it is closed.
     */
    @Override
    public void close() {
        if (!gate.beginClose()) {
            return;
        }
        long deadline = System.nanoTime() + shutdownTimeout.toNanos();
        try {
            if (reaper != null) {
                reaper.stop();
            }
            if (limitWatch != null) {
                limitWatch.stop();
            }
            if (purge != null) {
                purge.stop();
            }
            if (!gate.awaitQuiescence(deadline)) {
                log.warn("closing with operations still in flight after {}", shutdownTimeout);
            }
            sessions.releaseAll(deadline);
        } finally {
            try {
                runtimes.values().forEach(SessionManager::closeQuietly);
                sessions.closeStore();
            } finally {
                gate.closed();
            }
        }
    }

    private static void closeQuietly(SessionRuntime runtime) {
        try {
            runtime.close();
        } catch (RuntimeException e) {
            log.warn("closing runtime {} failed", runtime.name(), e);
        }
    }

    // ---------------------------------------------------------------- nodes

    /** The node this manager is: recorded on the sessions it creates. */
    public String node() {
        return node;
    }

    /**
     * Takes over the sessions of node {@code lostNode}, which the cluster gave up after its
     * lease lapsed (the caller won the claim): its sessions with a worker end {@code error} /
     * {@code node_lost}; its plain sessions move to this node, as after a restart. Durable on
     * return.
     *
     * @throws TetherException {@code store_failure}, {@code shutting_down}
     */
    public NodeTakeover takeOverNode(String lostNode) {
        Objects.requireNonNull(lostNode, "lostNode");
        gate.enter();
        try {
            return sessions.takeOver(lostNode);
        } finally {
            gate.exit();
        }
    }

    /**
     * Takes over one active session of a node that is gone from the cluster without its
     * sessions having been taken over (see {@link #takeOverNode}).
     *
     * @return the session afterwards: ended, or active on this node (plain); empty when it
     *     was not that node's any more
     */
    public Optional<Session> takeOverSession(Session orphan) {
        Objects.requireNonNull(orphan, "orphan");
        gate.enter();
        try {
            return Optional.ofNullable(sessions.takeOver(orphan));
        } finally {
            gate.exit();
        }
    }

    /**
     * Lets go of the live sessions the cluster no longer counts as this node's (see the
     * node layer in docs/cluster.md): those the store shows ended or held by another node
     * lose their workers here without a store write; when {@code leaseLost}, every session
     * with a worker ends {@code error} / {@code node_lost}.
     *
     * @return how many sessions it let go
     */
    public int releaseLost(boolean leaseLost) {
        gate.enter();
        try {
            return sessions.releaseLost(leaseLost);
        } finally {
            gate.exit();
        }
    }

    // ---------------------------------------------------------------- create

    /**
     * Creates a session. Durable on return.
     *
     * @throws TetherException {@code limit_exceeded} when a session limit would be passed,
     *     {@code store_failure}, {@code shutting_down}
     */
    public Session create(SessionSpec spec) {
        return create(Access.SYSTEM, spec);
    }

    /**
     * Creates a session for a caller, which must own it unless it is an admin.
     *
     * @throws TetherException {@code invalid_request} when a caller who is not an admin
     *     creates a session for another owner; otherwise as {@link #create(SessionSpec)}
     */
    public Session create(Access access, SessionSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (!access.sees(spec.owner())) {
            throw TetherException.invalid("owner '" + spec.owner() + "': only an admin may create sessions for "
                    + "another owner");
        }
        gate.enter();
        try {
            if (spec.key() != null) {
                return sessions.getOrCreateKeyed(spec, this::createLive);
            }
            return createLive(spec).snapshot;
        } finally {
            gate.exit();
        }
    }

    /**
     * Returns the active session {@code spec.owner()} created under {@code spec.key()}, or
     * creates one from {@code spec}. Callers racing with the same owner and key all get the
     * same session. Once that session has ended, the next call creates a new one.
     *
     * @throws TetherException {@code invalid_request} when the spec has no key; otherwise as
     *     {@link #create}
     */
    public Session getOrCreate(SessionSpec spec) {
        if (spec.key() == null) {
            throw TetherException.invalid("get-or-create needs a key; set SessionSpec.Builder.key(...)");
        }
        return create(spec);
    }

    private LiveSession createLive(SessionSpec spec) {
        SessionRuntime runtime = runtimeFor(spec.runtime());
        if (spec.device() != null && (runtime == null || !runtime.usesDevices())) {
            throw TetherException.invalid("runtime '" + spec.runtime() + "' drives no devices; device '"
                    + spec.device() + "' needs a device runtime (micropython)");
        }
        LiveSession ls = sessions.create(spec, runtime == null ? null : () -> startWorker(runtime, spec),
                now -> new Session(SessionIds.next(), spec.owner(), spec.key(), spec.runtime(),
                        SessionStatus.ACTIVE, now, now, null, null,
                        spec.idleTimeoutOr(defaultIdleTimeout), spec.maxLifetimeOr(defaultMaxLifetime),
                        0, spec.data, spec.metadata, node, 1));
        if (ls.worker != null) {
            String id = ls.snapshot.id();
            // The notifying thread may be the one running an execution: never wait on it.
            ls.worker.worker.onDeath(() -> Thread.ofVirtual().name("tether-worker-loss").start(() -> workerDied(id)));
        }
        return ls;
    }

    private LiveWorker startWorker(SessionRuntime runtime, SessionSpec spec) {
        Worker worker = runtime.start(workerOptions.withNetwork(spec.network()).withDevice(spec.device()));
        return new LiveWorker(worker, maxQueuedExecutions, diskQuota, workerOptions.limits().cpuTime(),
                limitCheckInterval);
    }

    /** The runtime behind {@code name}, {@code null} for {@code none}. */
    private SessionRuntime runtimeFor(String name) {
        if (Session.NO_RUNTIME.equals(name)) {
            return null;
        }
        SessionRuntime r = runtimes.get(name);
        if (r == null) {
            // Not configured is the caller's mistake, not an outage: asking again cannot help.
            throw TetherException.invalid("no runtime '" + name + "' here; available: "
                    + (runtimes.isEmpty() ? "none (plain sessions only)" : String.join(", ", runtimes.keySet())));
        }
        return r;
    }

    // ---------------------------------------------------------------- read

    /**
     * The session with this id, in any status.
     *
     * @throws TetherException {@code session_not_found}
     */
    public Session get(String id) {
        return get(Access.SYSTEM, id);
    }

    /**
     * The session with this id, in any status, if the caller may see it.
     *
     * @throws TetherException {@code session_not_found}, also for a session the caller may
     *     not see
     */
    public Session get(Access access, String id) {
        return find(access, id).orElseThrow(() -> LiveSessions.notFound(id));
    }

    /** The session with this id in any status, or empty. */
    public Optional<Session> find(String id) {
        return find(Access.SYSTEM, id);
    }

    /** The session with this id in any status if the caller may see it, or empty. */
    public Optional<Session> find(Access access, String id) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            return sessions.find(access, id);
        } finally {
            gate.exit();
        }
    }

    /**
     * One page of sessions matching {@code query}, newest first. Active sessions show their
     * latest activity even while the store has not yet written it.
     */
    public Page<Session> list(SessionQuery query) {
        return list(Access.SYSTEM, query);
    }

    /**
     * One page of the sessions the caller may see that match {@code query}, newest first: a
     * caller who is not an admin sees its own sessions only. Otherwise as
     * {@link #list(SessionQuery)}.
     *
     * @throws TetherException {@code invalid_request} when a caller who is not an admin
     *     asks for another owner's sessions
     */
    public Page<Session> list(Access access, SessionQuery query) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(query, "query");
        gate.enter();
        try {
            return sessions.list(access, query);
        } finally {
            gate.exit();
        }
    }

    /** Counts of this manager's sessions; answers in every state. */
    public SessionStats stats() {
        return sessions.stats();
    }

    // ---------------------------------------------------------------- activity

    /**
     * Records activity: the session's last activity becomes now and its interaction count
     * grows by one. Stored write-behind.
     *
     * @return the session after the touch
     * @throws TetherException {@code session_not_found}, {@code session_ended} (also when it
     *     had expired: it is ended as timed out first)
     */
    public Session touch(String id) {
        return touch(Access.SYSTEM, id);
    }

    /** {@link #touch(String)} for a caller: another owner's session is {@code session_not_found}. */
    public Session touch(Access access, String id) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            return sessions.touch(access, id);
        } finally {
            gate.exit();
        }
    }

    /**
     * Merges {@code dataPatch} into the session's data and {@code metadataPatch} into its
     * metadata (JSON merge patch: {@code null} removes a key). Counts as activity. Durable
     * on return.
     *
     * @param dataPatch     a JSON object, or {@code null} to leave data as it is
     * @param metadataPatch a JSON object, or {@code null} to leave metadata as it is
     * @throws TetherException {@code invalid_request} for a value that is not JSON (nothing
     *     changes), {@code session_not_found}, {@code session_ended}, {@code store_failure}
     */
    public Session update(String id, Map<String, ?> dataPatch, Map<String, ?> metadataPatch) {
        return update(Access.SYSTEM, id, dataPatch, metadataPatch);
    }

    /** {@link #update(String, Map, Map)} for a caller: another owner's session is {@code session_not_found}. */
    public Session update(Access access, String id, Map<String, ?> dataPatch, Map<String, ?> metadataPatch) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            return sessions.update(access, id, dataPatch, metadataPatch);
        } finally {
            gate.exit();
        }
    }

    /**
     * The resource tracker of an active session: what is registered there is released when
     * the session ends, expires or fails.
     *
     * @throws TetherException {@code session_not_found}, {@code session_ended}
     */
    public ResourceTracker resources(String id) {
        return resources(Access.SYSTEM, id);
    }

    /** {@link #resources(String)} for a caller: another owner's session is {@code session_not_found}. */
    public ResourceTracker resources(Access access, String id) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            return sessions.resources(access, id);
        } finally {
            gate.exit();
        }
    }

    // ---------------------------------------------------------------- executions

    /**
     * Runs code in the session's worker and returns its result. Executions of one session
     * run one at a time in arrival order; up to {@code maxQueuedExecutions} wait behind the
     * running one. An execution counts as an interaction, and a session is never expired
     * for idleness while one runs. A failure inside the interpreter is a result (status
     * {@code error}, {@code timeout}, {@code interrupted}, {@code crashed}), not an
     * exception. When the worker died (crash, or killed after a timeout), the
     * {@link WorkerLossPolicy} applies after the result is produced; a worker that dies
     * between executions (killed from outside) meets the policy as soon as its death is
     * known, without waiting for the next execution.
     *
     * <p>The timeout covers the whole call: waiting behind the session's earlier executions
     * and then running. An execution that did not get its turn within its timeout is refused
     * with {@code limit_exceeded} and never runs; one that did runs for what is left.
     *
     * <p>The worker's disk quota ({@link WorkerOptions.WorkerLimits#diskQuotaBytes}) and CPU
     * time ({@link WorkerOptions.WorkerLimits#cpuTime}, all its processes together) are checked
     * after the code ran, before the result is returned, and every limit check interval. Past
     * one the worker is killed, the result is {@code crashed} with the error
     * {@code DiskQuotaExceeded} or {@code CpuTimeExceeded} saying how much was used, and the
     * session ends {@code error} / {@code disk_quota_exceeded} or {@code cpu_time_exceeded}
     * whatever the policy.
     *
     * @param timeout  how long the call may wait for its turn and run; {@code null} for no limit
     * @param listener receives output while the code runs
     * @throws TetherException {@code invalid_request} for a plain session,
     *     {@code session_not_found}, {@code session_ended}, {@code limit_exceeded} when the
     *     queue is full or the timeout passed before the code's turn came (it did not run),
     *     {@code payload_too_large} for code over the worker's limit
     */
    public ExecutionResult execute(String id, String code, Duration timeout, OutputListener listener) {
        return execute(Access.SYSTEM, id, code, timeout, listener);
    }

    /**
     * {@link #execute(String, String, Duration, OutputListener)} for a caller: another
     * owner's session is {@code session_not_found} and nothing runs.
     */
    public ExecutionResult execute(Access access, String id, String code, Duration timeout,
                                   OutputListener listener) {
        return execute(access, id, code, null, timeout, listener);
    }

    /**
     * {@link #execute(Access, String, String, Duration, OutputListener)} with standard input:
     * the code reads {@code stdin} (may be {@code null}) line by line, then asks
     * {@code listener} for more when it {@linkplain OutputListener#acceptsInput accepts input}
     * (answered with {@link #input}), else reads end-of-file.
     */
    public ExecutionResult execute(Access access, String id, String code, String stdin, Duration timeout,
                                   OutputListener listener) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(code, "code");
        OutputListener out = listener == null ? OutputListener.NONE : listener;
        gate.enter();
        try {
            LiveSession ls = sessions.live(access, id);
            LiveWorker lw = workerOf(ls);
            Duration left = lw.enter(id, timeout);
            long number = lw.nextNumber();
            ExecutionResult result;
            WorkerDeath death;
            boolean restart;
            try {
                sessions.interact(ls);
                LiveWorker.Running running = lw.begin(number, code, sessions.now());
                out.started(number);
                try {
                    result = lw.execute(running, new ExecutionRequest(number, code, left, stdin, out.acceptsInput()),
                            out);
                    // Stored before it stops being the running one: a reader finds it in one or the other.
                    sessions.afterExecution(ls, new ExecutionRecord(id, code, running.startedAt, sessions.now(),
                            result));
                } finally {
                    lw.end(running);
                }
                death = lw.death();
                restart = death != null && death.policyDecides() && workerLossPolicy == WorkerLossPolicy.RESTART;
                if (restart && sessions.isLive(ls)) {
                    lw.restart();
                }
            } finally {
                lw.exit();
            }
            if (death != null && !restart) {
                terminateNow(id, death.reason(), death.cause(number, result));
            }
            return result;
        } finally {
            gate.exit();
        }
    }

    /**
     * Execution {@code number} of a session: while it runs, its output so far (status
     * {@code running}); afterwards as kept by the store, for the session's newest
     * executions (see {@link SessionManagerBuilder#executionHistory}), also after the
     * session ended.
     *
     * @return the execution, or empty when there is none with that number (any more)
     * @throws TetherException {@code session_not_found}
     */
    public Optional<ExecutionRecord> execution(String id, long number) {
        return execution(Access.SYSTEM, id, number);
    }

    /** {@link #execution(String, long)} for a caller: another owner's session is {@code session_not_found}. */
    public Optional<ExecutionRecord> execution(Access access, String id, long number) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            return history.execution(access, id, number);
        } finally {
            gate.exit();
        }
    }

    /**
     * Up to {@code limit} of a session's executions numbered below {@code before}, newest
     * first: the running one (status {@code running}, its output so far) and those the store
     * keeps (see {@link #execution}), also after the session ended.
     *
     * @param before only executions with a smaller number; {@link Long#MAX_VALUE} for the newest
     * @param limit  at least 1
     * @throws TetherException {@code session_not_found}
     */
    public List<ExecutionRecord> executions(String id, long before, int limit) {
        return executions(Access.SYSTEM, id, before, limit);
    }

    /** {@link #executions(String, long, int)} for a caller: another owner's session is {@code session_not_found}. */
    public List<ExecutionRecord> executions(Access access, String id, long before, int limit) {
        Objects.requireNonNull(access, "access");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be ≥ 1, got " + limit);
        }
        gate.enter();
        try {
            return history.executions(access, id, before, limit);
        } finally {
            gate.exit();
        }
    }

    /**
     * The working directory of an active live session's worker (its files, private to the
     * session and deleted when it ends), or empty for a plain session.
     *
     * @throws TetherException {@code session_not_found}, {@code session_ended}
     */
    public Optional<java.nio.file.Path> workingDirectory(String id) {
        return workingDirectory(Access.SYSTEM, id);
    }

    /** {@link #workingDirectory(String)} for a caller: another owner's session is {@code session_not_found}. */
    public Optional<java.nio.file.Path> workingDirectory(Access access, String id) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            LiveSession ls = sessions.active(access, id);
            return ls.worker == null ? Optional.empty() : Optional.of(ls.worker.worker.workingDirectory());
        } finally {
            gate.exit();
        }
    }

    /**
     * How many bytes an active live session's working directory can still take before it
     * passes the disk quota ({@code WorkerLimits.diskQuotaBytes}), measured now: for a caller
     * that writes into it on the session's behalf and must not get the session killed by
     * doing so. {@link Long#MAX_VALUE} without a quota; 0 when the directory is over it or
     * cannot be measured, and for a plain session (it has no directory). Code running in the
     * session may write meanwhile, so the answer is a snapshot. Blocks for the measurement
     * (off the caller's thread; at most 10 s).
     *
     * @throws TetherException {@code session_not_found} (also another owner's), {@code session_ended}
     */
    public long diskRoom(Access access, String id) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            LiveSession ls = sessions.active(access, id);
            return ls.worker == null ? 0 : ls.worker.diskRoom();
        } finally {
            gate.exit();
        }
    }

    /**
     * Interrupts the session's running execution (its result says {@code interrupted});
     * the interpreter keeps its state. Does nothing when none runs.
     *
     * @throws TetherException {@code invalid_request} for a plain session,
     *     {@code session_not_found}, {@code session_ended}
     */
    public void interrupt(String id) {
        interrupt(Access.SYSTEM, id);
    }

    /** {@link #interrupt(String)} for a caller: another owner's session is {@code session_not_found}. */
    public void interrupt(Access access, String id) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            workerOf(sessions.active(access, id)).interrupt();
        } finally {
            gate.exit();
        }
    }

    /**
     * Answers the input request of the session's running execution (see
     * {@link OutputListener#inputRequested}): {@code value} is the line its code reads.
     *
     * @throws TetherException {@code no_input_requested} when its execution does not wait for
     *     input; as {@link #interrupt} otherwise
     */
    public void input(Access access, String id, String value) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(value, "value");
        gate.enter();
        try {
            if (!workerOf(sessions.active(access, id)).worker.answerInput(value)) {
                throw new TetherException(ErrorCode.NO_INPUT_REQUESTED,
                        "session " + id + " has no execution waiting for input");
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Gives the session a fresh interpreter: a running execution is interrupted first, then
     * the worker restarts (all interpreter state is lost; the working directory stays).
     * Counts as an interaction.
     *
     * @throws TetherException as {@link #interrupt}, and {@code internal} when the running
     *     execution did not stop within the shutdown timeout
     */
    public Session restart(String id) {
        return restart(Access.SYSTEM, id);
    }

    /** {@link #restart(String)} for a caller: another owner's session is {@code session_not_found}. */
    public Session restart(Access access, String id) {
        Objects.requireNonNull(access, "access");
        gate.enter();
        try {
            LiveSession ls = sessions.active(access, id);
            LiveWorker lw = workerOf(ls);
            lw.worker.interrupt();
            lw.enter(id, null);
            try {
                Session s = sessions.interact(ls);
                lw.restart();
                return s;
            } finally {
                lw.exit();
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * What may be typed at {@code cursor} in {@code code}, from the session's live
     * interpreter (see {@link Worker#complete}). Costs executions nothing: it never waits
     * behind one, and is refused while one runs or waits. Not an interaction: the idle
     * timer keeps running.
     *
     * @param cursor a position in {@code code} counted in code points, {@code 0 ≤ cursor ≤ length}
     * @throws TetherException {@code invalid_request} for a plain session or a cursor
     *     outside the code, {@code session_not_found}, {@code session_ended},
     *     {@code session_busy} while the session runs code
     */
    public Completion complete(Access access, String id, String code, int cursor) {
        return whileIdle(access, id, code, cursor, w -> w.complete(code, cursor, QUERY_TIMEOUT));
    }

    /**
     * The signature and documentation of the name at {@code cursor} in {@code code}, from
     * the session's live interpreter (see {@link Worker#inspect}); otherwise as
     * {@link #complete}.
     */
    public Inspection inspect(Access access, String id, String code, int cursor) {
        return whileIdle(access, id, code, cursor, w -> w.inspect(code, cursor, QUERY_TIMEOUT));
    }

    private <T> T whileIdle(Access access, String id, String code, int cursor, Function<Worker, T> query) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(code, "code");
        gate.enter();
        try {
            LiveWorker lw = workerOf(sessions.active(access, id));
            int length = code.codePointCount(0, code.length());
            if (cursor < 0 || cursor > length) {
                throw TetherException.invalid("cursor must be between 0 and the length of the code in code points ("
                        + length + "), got " + cursor);
            }
            if (!lw.tryTake()) {
                throw new TetherException(ErrorCode.SESSION_BUSY, "session '" + id + "' is running code; "
                        + "completion and inspection answer once it is idle");
            }
            try {
                return query.apply(lw.worker);
            } finally {
                lw.release();
            }
        } finally {
            gate.exit();
        }
    }

    private static LiveWorker workerOf(LiveSession ls) {
        if (ls.worker == null) {
            throw TetherException.invalid("session '" + ls.snapshot.id() + "' is a plain session (runtime none): "
                    + "create it with a runtime to execute code");
        }
        return ls.worker;
    }

    // ---------------------------------------------------------------- end

    /**
     * Ends a session: it moves to {@code ended} with {@code reason} and everything it holds
     * is released. Idempotent: ending a session that already left {@code active} changes
     * nothing and returns it as it is.
     *
     * @return the session's final record
     * @throws TetherException {@code session_not_found}, {@code store_failure} (the session
     *     then stays active)
     */
    public Session end(String id, EndReason reason) {
        return end(Access.SYSTEM, id, reason);
    }

    /** {@link #end(String, EndReason)} for a caller: another owner's session is {@code session_not_found}. */
    public Session end(Access access, String id, EndReason reason) {
        return terminate(access, id, SessionStatus.ENDED, reason, null);
    }

    /**
     * Ends a session because something failed: status {@code error} with {@code reason}
     * (for example {@link EndReason#WORKER_CRASHED}). Otherwise as {@link #end}.
     */
    public Session fail(String id, EndReason reason, Throwable cause) {
        return terminate(Access.SYSTEM, id, SessionStatus.ERROR, reason, cause);
    }

    private Session terminate(Access access, String id, SessionStatus status, EndReason reason, Throwable cause) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(reason, "reason");
        gate.enter();
        try {
            return sessions.terminate(access, id, status, reason, cause);
        } finally {
            gate.exit();
        }
    }

    /**
     * A session's worker died by itself. When an execution was running, its end applies the
     * {@link WorkerLossPolicy} (see {@link #execute}); this waits for it and finds nothing
     * left to do. Between executions this applies the policy: a fresh worker, or the session
     * ends {@code error} / {@code worker_crashed} (also when the fresh worker cannot start).
     */
    private void workerDied(String id) {
        try {
            gate.enter();
        } catch (TetherException shuttingDown) {
            return; // the close ends the session anyway
        }
        try {
            LiveSession ls = sessions.liveOrNull(id);
            if (ls == null) {
                return;
            }
            LiveWorker lw = ls.worker;
            try {
                lw.enter(id, null);
            } catch (TetherException queueFull) {
                return; // executions are waiting: the next to run finds the worker dead and applies the policy
            }
            WorkerDeath death;
            RuntimeException restartFailure = null;
            try {
                death = lw.death();
                if (death == null || !death.policyDecides() || !sessions.isLive(ls)) {
                    return; // handled already: restarted, ended, or killed for a limit (which ends it)
                }
                if (workerLossPolicy == WorkerLossPolicy.RESTART) {
                    try {
                        lw.restart();
                        return;
                    } catch (RuntimeException e) {
                        restartFailure = e;
                    }
                }
            } finally {
                lw.exit();
            }
            terminateNow(id, death.reason(), restartFailure != null ? restartFailure : death.cause(0, null));
        } finally {
            gate.exit();
        }
    }

    /** Fails a session whose worker died; already inside an operation. */
    private void terminateNow(String id, EndReason reason, Throwable cause) {
        sessions.terminate(Access.SYSTEM, id, SessionStatus.ERROR, reason, cause);
    }

    /**
     * Checks every live session's totals now: a worker whose working directory holds more
     * than {@link WorkerOptions.WorkerLimits#diskQuotaBytes}, or whose processes used more CPU
     * time than {@link WorkerOptions.WorkerLimits#cpuTime}, is killed and its session ends
     * {@code error} / {@code disk_quota_exceeded} or {@code cpu_time_exceeded}: at once when
     * it was between executions, else as the running execution returns ({@code crashed},
     * error {@code DiskQuotaExceeded} or {@code CpuTimeExceeded}). The manager runs this by
     * itself every limit check interval (see {@link SessionManagerBuilder#limitCheckInterval})
     * and checks after every execution anyway; tests call it instead of waiting for the
     * interval. Blocks while it measures.
     *
     * @return how many sessions this call ended or will end
     */
    public int checkLimits() {
        gate.enter();
        try {
            return sessions.checkLimits();
        } finally {
            gate.exit();
        }
    }

    /**
     * Ends every session that has expired now.
     *
     * @return how many sessions this call moved to {@code timeout}
     */
    public int cleanupInactive() {
        gate.enter();
        try {
            return sessions.reapExpired();
        } finally {
            gate.exit();
        }
    }

    /**
     * Deletes from the store every session that ended longer than the
     * {@linkplain SessionManagerBuilder#retention retention} ago, with its execution history,
     * in batches of {@value #PURGE_BATCH} (one store write each, so creates and updates go on
     * between them). The manager runs this by itself every purge interval; tests call it after
     * moving the clock. Stops early when the manager closes.
     *
     * @return how many sessions this call deleted; 0 when there is no retention
     */
    public int purgeEnded() {
        if (retention == null) {
            return 0;
        }
        gate.enter();
        try {
            return sessions.purgeEnded(sessions.now().minus(retention), PURGE_BATCH,
                    () -> gate.state() == ManagerState.ACTIVE);
        } finally {
            gate.exit();
        }
    }

    // ---------------------------------------------------------------- blocks

    /**
     * Creates a session from {@code spec}, runs {@code block} in it and ends it whatever
     * happens: {@code ended} / {@code manual} when the block returns, {@code error} /
     * {@code block_failed} when it throws (the block's exception is rethrown; a failure to
     * end is added to it as suppressed).
     */
    public <T, X extends Exception> T withSession(SessionSpec spec, SessionBlock<T, X> block) throws X {
        Session s = create(spec);
        T result;
        try {
            result = block.run(s);
        } catch (Exception | Error e) {
            try {
                fail(s.id(), EndReason.BLOCK_FAILED, e);
            } catch (RuntimeException endFailure) {
                e.addSuppressed(endFailure);
            }
            throw e;
        }
        end(s.id(), EndReason.MANUAL);
        return result;
    }

    // ---------------------------------------------------------------- listeners

    /** Adds a listener for every later event. */
    public void addListener(SessionListener listener) {
        sessions.addListener(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(SessionListener listener) {
        sessions.removeListener(listener);
    }
}
