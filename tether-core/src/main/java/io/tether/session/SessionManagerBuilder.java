package io.tether.session;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.WorkerOptions;
import io.tether.store.InMemorySessionStore;
import io.tether.store.SessionStore;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a {@link SessionManager}: every setting has a default, every value is validated
 * when set, and setting an option twice is an error. Not thread-safe; the manager it
 * builds is.
 */
public final class SessionManagerBuilder {
    /** Default of {@link #retention(Duration)}: 30 days. */
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(30);

    SessionStore store;
    InstantSource clock = InstantSource.system();
    Duration idleTimeout = Duration.ofMinutes(30);
    Duration maxLifetime;
    Duration cleanupTimeout = Duration.ofSeconds(5);
    Duration shutdownTimeout = Duration.ofSeconds(30);
    Duration reaperInterval = Duration.ofSeconds(1);
    Duration limitCheckInterval = Duration.ofMillis(500);
    Duration retention = DEFAULT_RETENTION;
    Duration purgeInterval = Duration.ofMinutes(1);
    long maxSessions = 100_000;
    long maxSessionsPerOwner = Long.MAX_VALUE;
    String node = "local";
    boolean sharedStore;
    MeterRegistry registry = new CompositeMeterRegistry();
    final List<SessionListener> listeners = new ArrayList<>();
    final List<SessionRuntime> runtimes = new ArrayList<>();
    WorkerOptions workerOptions = WorkerOptions.DEFAULTS;
    WorkerLossPolicy workerLossPolicy = WorkerLossPolicy.END_SESSION;
    int maxQueuedExecutions = 16;
    int executionHistory = 100;
    final Map<String, Integer> maxWorkersPerOwner = new HashMap<>();
    private final Set<String> set = new HashSet<>();

    SessionManagerBuilder() {
    }

    private void once(String option) {
        if (!set.add(option)) {
            throw new IllegalStateException(option + " was already set");
        }
    }

    /** Where sessions are kept; default an {@link InMemorySessionStore}. The manager closes it. */
    public SessionManagerBuilder store(SessionStore store) {
        once("store");
        this.store = Objects.requireNonNull(store, "store");
        return this;
    }

    /** The source of time for activity and expiry; default the system clock. */
    public SessionManagerBuilder clock(InstantSource clock) {
        once("clock");
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /** Idle timeout of sessions whose spec sets none; default 30 minutes. */
    public SessionManagerBuilder defaultIdleTimeout(Duration timeout) {
        once("defaultIdleTimeout");
        this.idleTimeout = SessionSpec.checkPositive(timeout, "default idle timeout");
        return this;
    }

    /** Sessions whose spec sets no idle timeout never expire for inactivity. */
    public SessionManagerBuilder noDefaultIdleTimeout() {
        once("defaultIdleTimeout");
        this.idleTimeout = null;
        return this;
    }

    /** Max lifetime of sessions whose spec sets none; default unlimited. */
    public SessionManagerBuilder defaultMaxLifetime(Duration lifetime) {
        once("defaultMaxLifetime");
        this.maxLifetime = SessionSpec.checkPositive(lifetime, "default max lifetime");
        return this;
    }

    /** Most active sessions in total (sessions being created count); default 100,000. */
    public SessionManagerBuilder maxSessions(long max) {
        once("maxSessions");
        this.maxSessions = checkLimit(max, "maxSessions");
        return this;
    }

    /** Most active sessions of one owner; default unlimited (only the total applies). */
    public SessionManagerBuilder maxSessionsPerOwner(long max) {
        once("maxSessionsPerOwner");
        this.maxSessionsPerOwner = checkLimit(max, "maxSessionsPerOwner");
        return this;
    }

    /**
     * Most workers of runtime {@code runtime} that one owner's sessions may hold at once
     * (sessions being created count); default unlimited. One more is refused at once with
     * {@code limit_exceeded}, so one owner's burst cannot take every worker of a pool and
     * keep other owners waiting. May be set once per runtime.
     */
    public SessionManagerBuilder maxWorkersPerOwner(String runtime, int max) {
        Objects.requireNonNull(runtime, "runtime");
        once("maxWorkersPerOwner " + runtime);
        maxWorkersPerOwner.put(runtime, (int) checkLimit(max, "maxWorkersPerOwner"));
        return this;
    }

    /** How long one resource may take to close at session end; default 5 seconds. */
    public SessionManagerBuilder cleanupTimeout(Duration timeout) {
        once("cleanupTimeout");
        this.cleanupTimeout = SessionSpec.checkPositive(timeout, "cleanup timeout");
        return this;
    }

    /** How long {@link #close()} may take in all; default 30 seconds. */
    public SessionManagerBuilder shutdownTimeout(Duration timeout) {
        once("shutdownTimeout");
        this.shutdownTimeout = SessionSpec.checkPositive(timeout, "shutdown timeout");
        return this;
    }

    /**
     * How often the reaper ends expired sessions; default 1 second. {@link Duration#ZERO}
     * runs no reaper (expired sessions then end when next used or on
     * {@link #cleanupInactive()}).
     */
    public SessionManagerBuilder reaperInterval(Duration interval) {
        once("reaperInterval");
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative()) {
            throw new IllegalArgumentException("reaper interval must be ≥ 0, got " + interval);
        }
        this.reaperInterval = interval;
        return this;
    }

    /**
     * How often every live session's totals are checked: its disk quota
     * ({@link WorkerOptions.WorkerLimits#diskQuotaBytes}) and its CPU time
     * ({@link WorkerOptions.WorkerLimits#cpuTime}), whether an execution runs or not; default
     * 500 ms, counted from the end of one pass over the sessions to the start of the next. Both
     * are also checked after every execution whatever this says. {@link Duration#ZERO} runs
     * no background checks (then {@link SessionManager#checkLimits()} checks on demand).
     */
    public SessionManagerBuilder limitCheckInterval(Duration interval) {
        once("limitCheckInterval");
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative()) {
            throw new IllegalArgumentException("limit check interval must be ≥ 0, got " + interval);
        }
        this.limitCheckInterval = interval;
        return this;
    }

    /**
     * How long an ended session (and its execution history) stays in the store after it
     * ended; default 30 days. Then the purge deletes it: {@code find} no longer knows it and
     * it is in no list. Without a retention ended sessions pile up in the store for ever.
     */
    public SessionManagerBuilder retention(Duration retention) {
        once("retention");
        this.retention = SessionSpec.checkPositive(retention, "retention");
        return this;
    }

    /** Keeps ended sessions for ever: the store grows with every session ever created. */
    public SessionManagerBuilder noRetention() {
        once("retention");
        this.retention = null;
        return this;
    }

    /**
     * How often the purge deletes sessions past their {@linkplain #retention retention};
     * default 1 minute, counted from the end of one pass to the start of the next.
     * {@link Duration#ZERO} runs no purge in the background (then
     * {@link SessionManager#purgeEnded()} purges on demand).
     */
    public SessionManagerBuilder purgeInterval(Duration interval) {
        once("purgeInterval");
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative()) {
            throw new IllegalArgumentException("purge interval must be ≥ 0, got " + interval);
        }
        this.purgeInterval = interval;
        return this;
    }

    /** The name of this node, recorded on every session it creates; default {@code local}. */
    public SessionManagerBuilder node(String node) {
        once("node");
        this.node = Objects.requireNonNull(node, "node");
        return this;
    }

    /**
     * Says the store is shared with other nodes (a cluster): at start the manager recovers
     * only the active sessions recorded with its {@link #node}; the others are their nodes'.
     * Default: the store is this manager's alone and every active session in it is recovered.
     */
    public SessionManagerBuilder sharedStore() {
        once("sharedStore");
        this.sharedStore = true;
        return this;
    }

    /** Where meters are registered; default none (nothing is recorded). */
    public SessionManagerBuilder meterRegistry(MeterRegistry registry) {
        once("meterRegistry");
        this.registry = Objects.requireNonNull(registry, "registry");
        return this;
    }

    /** Adds a listener; may be called more than once. */
    public SessionManagerBuilder listener(SessionListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Adds a runtime: sessions created with its {@link SessionRuntime#name()} get a worker
     * of it. May be called once per runtime name. The manager closes its runtimes.
     */
    public SessionManagerBuilder runtime(SessionRuntime runtime) {
        Objects.requireNonNull(runtime, "runtime");
        once("runtime " + runtime.name());
        runtimes.add(runtime);
        return this;
    }

    /** Limits of every worker; default {@link WorkerOptions#DEFAULTS}. */
    public SessionManagerBuilder workerOptions(WorkerOptions options) {
        once("workerOptions");
        this.workerOptions = Objects.requireNonNull(options, "options");
        return this;
    }

    /** What happens to a session whose worker dies; default {@link WorkerLossPolicy#END_SESSION}. */
    public SessionManagerBuilder workerLossPolicy(WorkerLossPolicy policy) {
        once("workerLossPolicy");
        this.workerLossPolicy = Objects.requireNonNull(policy, "policy");
        return this;
    }

    /**
     * How many executions of one session may wait behind the running one; default 16.
     * One more is refused with {@code limit_exceeded}.
     */
    public SessionManagerBuilder maxQueuedExecutions(int max) {
        once("maxQueuedExecutions");
        if (max < 0) {
            throw new IllegalArgumentException("maxQueuedExecutions must be ≥ 0, got " + max);
        }
        this.maxQueuedExecutions = max;
        return this;
    }

    /**
     * How many of each session's newest executions are kept (code, status, output, result),
     * so a client can fetch one by number after it went away; default 100.
     */
    public SessionManagerBuilder executionHistory(int executions) {
        once("executionHistory");
        this.executionHistory = (int) checkLimit(executions, "executionHistory");
        return this;
    }

    /** A new, not yet started manager. */
    public SessionManager build() {
        return new SessionManager(this);
    }

    private static long checkLimit(long max, String what) {
        if (max < 1) {
            throw new IllegalArgumentException(what + " must be ≥ 1, got " + max);
        }
        return max;
    }
}
