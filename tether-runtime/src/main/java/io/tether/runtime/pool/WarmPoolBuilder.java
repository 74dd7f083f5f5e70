package io.tether.runtime.pool;

import io.tether.runtime.SessionRuntime;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a {@link WarmPool}: every setting has a default, every value is validated when
 * set (and the combination at {@link #build}), and setting an option twice is an error.
 * Not thread-safe; the pool it builds is.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>option</th><th>default</th><th>why</th></tr>
 *   <tr><td>{@link #minIdle}</td><td>2</td><td>two back-to-back session creations are both hits</td></tr>
 *   <tr><td>{@link #maxWorkers}</td><td>64</td><td>a bound on processes, not a target</td></tr>
 *   <tr><td>{@link #acquireTimeout}</td><td>10 s</td><td>long enough to outlast a burst, short
 *       enough that a client is told rather than left hanging</td></tr>
 *   <tr><td>{@link #idleEvictionAfter}</td><td>5 min</td><td>surplus workers from
 *       {@link WarmPool#prestart} do not linger</td></tr>
 *   <tr><td>{@link #limits}</td><td>{@link WorkerLimits#DEFAULTS}</td><td>requests with these
 *       limits are pooled, others started directly</td></tr>
 *   <tr><td>{@link #healthCheckAfter}</td><td>1 s</td><td>a fresh worker skips the round trip</td></tr>
 *   <tr><td>{@link #healthCheck}</td><td>on</td><td>a worker that died while idle is never
 *       handed out</td></tr>
 *   <tr><td>{@link #clock}</td><td>system</td><td>for idle eviction only</td></tr>
 *   <tr><td>{@link #fillOnFirstUse}</td><td>false</td><td>a pool that is built is meant to be
 *       used; a runtime whose idle worker is costly (a JVM) and often unused can wait</td></tr>
 * </table>
 */
public final class WarmPoolBuilder {
    final SessionRuntime delegate;
    int minIdle = 2;
    int maxWorkers = 64;
    Duration acquireTimeout = Duration.ofSeconds(10);
    Duration idleEvictionAfter = Duration.ofMinutes(5);
    WorkerLimits limits = WorkerLimits.DEFAULTS;
    boolean healthCheck = true;
    Duration healthCheckAfter = Duration.ofSeconds(1);
    InstantSource clock = InstantSource.system();
    boolean fillOnFirstUse;
    private final Set<String> set = new HashSet<>();

    WarmPoolBuilder(SessionRuntime delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    private void once(String option) {
        if (!set.add(option)) {
            throw new IllegalStateException(option + " was already set");
        }
    }

    /** Workers kept started and idle, ready to hand out; 0 to 1000, default 2. */
    public WarmPoolBuilder minIdle(int count) {
        once("minIdle");
        if (count < 0 || count > 1000) {
            throw new IllegalArgumentException("minIdle must be between 0 and 1000, was " + count);
        }
        this.minIdle = count;
        return this;
    }

    /**
     * Most workers at once, counting idle, starting and handed-out ones (a handed-out worker
     * counts until its session closes it); 1 to 10,000, default 64.
     */
    public WarmPoolBuilder maxWorkers(int count) {
        once("maxWorkers");
        if (count < 1 || count > 10_000) {
            throw new IllegalArgumentException("maxWorkers must be between 1 and 10000, was " + count);
        }
        this.maxWorkers = count;
        return this;
    }

    /**
     * How long {@link WarmPool#start} waits for room when {@code maxWorkers} is reached
     * before it fails with {@code limit_exceeded}; 0 (fail at once) to 10 minutes, default
     * 10 s. The time a worker takes to start is not part of this wait.
     */
    public WarmPoolBuilder acquireTimeout(Duration timeout) {
        once("acquireTimeout");
        Objects.requireNonNull(timeout, "acquireTimeout");
        if (timeout.isNegative() || timeout.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("acquireTimeout must be between 0 and 10 minutes, was " + timeout);
        }
        this.acquireTimeout = timeout;
        return this;
    }

    /** How long a worker above {@code minIdle} may stay idle before it is closed; positive, default 5 min. */
    public WarmPoolBuilder idleEvictionAfter(Duration after) {
        once("idleEvictionAfter");
        Objects.requireNonNull(after, "idleEvictionAfter");
        if (after.isNegative() || after.isZero()) {
            throw new IllegalArgumentException("idleEvictionAfter must be positive, was " + after);
        }
        this.idleEvictionAfter = after;
        return this;
    }

    /**
     * The limits pre-started workers get; only requests with exactly these limits are
     * served from the pool. Default {@link WorkerLimits#DEFAULTS}.
     */
    public WarmPoolBuilder limits(WorkerLimits limits) {
        once("limits");
        this.limits = Objects.requireNonNull(limits, "limits");
        return this;
    }

    /**
     * Whether an idle worker must pass {@code Worker.isHealthy()} (a round trip) before it is
     * handed out when it has been idle longer than {@link #healthCheckAfter}; default true.
     * A worker whose state is {@code DEAD} is never handed out either way.
     */
    public WarmPoolBuilder healthCheck(boolean enabled) {
        once("healthCheck");
        this.healthCheck = enabled;
        return this;
    }

    /**
     * How long a worker may sit idle before hand-out costs it the round-trip health check;
     * a fresher one (just started, just checked) gets only the cheap {@code state()} check,
     * which still catches a process that died. Default 1 s: the round trip costs about
     * 0.3 ms, more than the rest of a hit.
     */
    public WarmPoolBuilder healthCheckAfter(Duration idle) {
        once("healthCheckAfter");
        Objects.requireNonNull(idle, "idle");
        if (idle.isNegative()) {
            throw new IllegalArgumentException("healthCheckAfter must be ≥ 0, got " + idle);
        }
        this.healthCheckAfter = idle;
        return this;
    }

    /** The source of time for idle eviction; default the system clock. */
    public WarmPoolBuilder clock(InstantSource clock) {
        once("clock");
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /**
     * Whether the pool waits for its first {@link WarmPool#start} before it pre-starts
     * {@code minIdle} workers; default false (it fills at build). With true nothing is started
     * until a session asks for a worker: that first start is a miss on the caller's thread, and
     * the pool fills once it returns (so the first worker's start does not compete with the
     * refill for the CPU); from then on it keeps {@code minIdle} idle as usual. For a runtime
     * whose idle worker is costly and may never be used, e.g. JShell's JVM (~100 MB at rest).
     * {@link WarmPool#prestart} starts its surplus workers either way.
     */
    public WarmPoolBuilder fillOnFirstUse(boolean enabled) {
        once("fillOnFirstUse");
        this.fillOnFirstUse = enabled;
        return this;
    }

    /**
     * A running pool: its refill thread started, which
     * begins pre-starting {@code minIdle} workers at once, or after the first
     * {@link WarmPool#start} with {@link #fillOnFirstUse} (build does not wait for them; see
     * {@link WarmPool#awaitIdle}).
     *
     * @throws IllegalArgumentException when {@code minIdle} exceeds {@code maxWorkers}
     */
    public WarmPool build() {
        if (minIdle > maxWorkers) {
            throw new IllegalArgumentException("minIdle (" + minIdle + ") must not exceed maxWorkers ("
                    + maxWorkers + ")");
        }
        return new WarmPool(this);
    }
}
