package io.tether.runtime.pool;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.WorkerState;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps workers of one runtime started ahead of demand, so creating a session does not pay
 * for an interpreter's start. A decorator: it has its delegate's {@link #name()}, and
 * {@link #start} hands out an idle pre-started worker (a <em>hit</em>) or starts one on the
 * caller's thread (a <em>miss</em>).
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Workers are only ever pre-started, never reused: a worker handed out belongs to its
 *       session for life and is never handed to anyone else, also not after it is closed.</li>
 *   <li>At most {@code maxWorkers} exist at once, counting idle, starting and handed-out
 *       workers; a handed-out worker counts until its session closes it. When the limit is
 *       reached {@link #start} waits up to {@code acquireTimeout} for room, then fails with
 *       {@code limit_exceeded}; it never waits longer and never deadlocks.</li>
 *   <li>A background thread, {@code tether-pool-<runtime>}, keeps {@code minIdle} workers
 *       idle (with {@code fillOnFirstUse}, only once the first {@link #start} has returned), retries failed starts with exponential backoff (50 ms doubling to 5 s), and
 *       once a second closes dead idle workers and those above {@code minIdle} idle for
 *       longer than {@code idleEvictionAfter}.</li>
 *   <li>Only requests whose limits equal the pool's {@code limits} are served from the pool;
 *       others are misses, started directly (and count against {@code maxWorkers}).</li>
 * </ul>
 *
 * <h2>Working directories</h2>
 * Every worker gets a fresh private directory from its runtime when it starts
 * ({@link Worker#workingDirectory()}), so a pre-started worker needs nothing moved when a
 * session claims it.
 *
 * <h2>Errors</h2>
 * {@link #start} throws {@link TetherException} with {@code limit_exceeded} when no room
 * came within {@code acquireTimeout}; {@code runtime_unavailable} when the delegate failed
 * to start a worker and none was idle (the delegate's own {@code TetherException} is passed
 * on unchanged), when the waiting thread was interrupted, and after {@link #close} (a
 * closed pool is a runtime that cannot start workers; the session manager reports its own
 * shutdown separately).
 *
 * <p>Thread-safe. {@link #close} closes the delegate too: the pool owns it.
 */
public final class WarmPool implements SessionRuntime {
    private static final Logger log = LoggerFactory.getLogger(WarmPool.class);

    private static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long HOUSEKEEPING_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private record IdleWorker(Worker worker, Instant since) {
    }

    private final SessionRuntime delegate;
    private final String name;
    private final int minIdle;
    private final int maxWorkers;
    private final Duration acquireTimeout;
    private final Duration idleEvictionAfter;
    private final WorkerLimits limits;
    private final boolean healthCheck;
    private final Duration healthCheckAfter;
    private final InstantSource clock;
    private final SpawnLatencies latencies = new SpawnLatencies(256);
    private final Thread refiller;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled on every change of the counts below or of {@code closed}. */
    private final Condition changed = lock.newCondition();
    // Guarded by lock. idle is oldest first; hand-out takes the newest, eviction the oldest.
    private final ArrayDeque<IdleWorker> idle = new ArrayDeque<>();
    private int refillStarting;
    private int directStarting;
    private int handedOut;
    /** Taken from idle for a health check and the move into place; may still go back. */
    private int checking;
    private int waiting;
    private int surplusWanted;
    private int consecutiveFailures;
    private long backoffUntilNanos;
    private boolean closed;
    /**
     * Whether {@code minIdle} applies yet: from build, or with {@code fillOnFirstUse} from the
     * end of the first {@link #start}. Written under lock; volatile for the check that keeps
     * {@link #start} from taking the lock once more on every call.
     */
    private volatile boolean filling;
    private long hits;
    private long misses;
    private long waits;
    private long timeouts;
    private long failures;
    private long unhealthy;
    private long evicted;

    WarmPool(WarmPoolBuilder b) {
        this.delegate = b.delegate;
        this.name = delegate.name();
        this.minIdle = b.minIdle;
        this.maxWorkers = b.maxWorkers;
        this.acquireTimeout = b.acquireTimeout;
        this.idleEvictionAfter = b.idleEvictionAfter;
        this.limits = b.limits;
        this.healthCheck = b.healthCheck;
        this.healthCheckAfter = b.healthCheckAfter;
        this.clock = b.clock;
        this.filling = !b.fillOnFirstUse;
        this.backoffUntilNanos = System.nanoTime();
        this.refiller = Thread.ofPlatform().daemon().name("tether-pool-" + name).unstarted(this::refillLoop);
        refiller.start();
    }

    /** A builder for a pool in front of {@code delegate}; the pool will own (and close) it. */
    public static WarmPoolBuilder builder(SessionRuntime delegate) {
        return new WarmPoolBuilder(delegate);
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * A worker for one session: a pre-started one when one is idle and the options' limits
     * are the pool's, else one started now with {@code options}.
     * Blocks for at most {@code acquireTimeout} waiting for room, plus the time a start takes.
     *
     * @throws TetherException {@code limit_exceeded} or {@code runtime_unavailable}, see
     *     the class documentation
     */
    @Override
    public Worker start(WorkerOptions options) {
        Objects.requireNonNull(options, "options");
        try {
            return acquire(options);
        } finally {
            if (!filling) {
                startFilling();
            }
        }
    }

    /** The first use of a {@code fillOnFirstUse} pool: from now on it keeps {@code minIdle} idle. */
    private void startFilling() {
        lock.lock();
        try {
            filling = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** {@code minIdle} once the pool fills, 0 before. Guarded by lock. */
    private int targetIdle() {
        return filling ? minIdle : 0;
    }

    private Worker acquire(WorkerOptions options) {
        boolean poolable = options.limits().equals(limits) && !options.network(); // idle workers have none
        long deadline = System.nanoTime() + acquireTimeout.toNanos();
        boolean waited = false;
        RuntimeException failure = null;
        while (true) {
            IdleWorker candidate = null;
            IdleWorker displaced = null;
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        throw closedError();
                    }
                    if (poolable && !idle.isEmpty()) {
                        candidate = idle.pollLast();
                        checking++;
                        break;
                    }
                    if (failure != null) {
                        throw unavailable(failure);
                    }
                    if (!poolable && total() >= maxWorkers && !idle.isEmpty()) {
                        // An idle worker this request cannot use must not keep it out.
                        displaced = idle.pollFirst();
                        evicted++;
                    }
                    if (total() < maxWorkers) {
                        directStarting++;
                        break;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        timeouts++;
                        changed.signalAll();
                        throw new TetherException(ErrorCode.LIMIT_EXCEEDED, "the " + name + " pool is at its limit of "
                                + maxWorkers + " workers and none became free within " + acquireTimeout.toMillis()
                                + " ms");
                    }
                    if (!waited) {
                        waited = true;
                        waits++;
                    }
                    waiting++;
                    try {
                        changed.awaitNanos(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        changed.signalAll(); // the refill defers to waiters; tell it one left
                        throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                                "interrupted while waiting for a " + name + " worker", e);
                    } finally {
                        waiting--;
                    }
                }
            } finally {
                lock.unlock();
                if (displaced != null) {
                    discard(displaced);
                }
            }

            if (candidate != null) {
                boolean deep = healthCheck
                        && Duration.between(candidate.since(), clock.instant()).compareTo(healthCheckAfter) > 0;
                if (!healthy(candidate.worker(), deep)) {
                    discard(candidate);
                    lock.lock();
                    try {
                        checking--;
                        unhealthy++;
                        changed.signalAll();
                    } finally {
                        lock.unlock();
                    }
                    continue;
                }
                lock.lock();
                try {
                    checking--;
                    handedOut++;
                    hits++;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
                return handOut(candidate.worker());
            }

            long began = System.nanoTime();
            Worker worker;
            try {
                worker = delegate.start(options);
            } catch (RuntimeException | Error e) {
                startFailed(() -> directStarting--);
                if (e instanceof Error error) {
                    throw error;
                }
                log.debug("Starting a {} worker for a miss failed", name, e);
                failure = (RuntimeException) e;
                continue;
            }
            return directStarted(worker, System.nanoTime() - began);
        }
    }

    private Worker directStarted(Worker worker, long elapsedNanos) {
        latencies.record(elapsedNanos);
        lock.lock();
        try {
            directStarting--;
            changed.signalAll();
            if (!closed) {
                handedOut++;
                misses++;
                startSucceeded();
                return handOut(worker);
            }
        } finally {
            lock.unlock();
        }
        worker.close();
        throw closedError();
    }

    private Worker handOut(Worker worker) {
        return new PooledWorker(worker, this::released);
    }

    private void released() {
        lock.lock();
        try {
            handedOut--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A dead worker is never handed out; the round trip of {@code isHealthy} only when {@code deep}. */
    private static boolean healthy(Worker worker, boolean deep) {
        try {
            return worker.state() != WorkerState.DEAD && (!deep || worker.isHealthy());
        } catch (RuntimeException e) {
            log.debug("Health check of {} failed", worker, e);
            return false;
        }
    }

    /**
     * Asks the pool to start up to {@code count} workers beyond {@code minIdle}, for an
     * expected burst; they are started in the background as room allows and closed again
     * after {@code idleEvictionAfter} if unused. Does not block.
     *
     * @return how many will be started: {@code count}, or fewer when {@code maxWorkers}
     *     leaves less room
     * @throws IllegalArgumentException when {@code count} is negative
     */
    public int prestart(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative, was " + count);
        }
        lock.lock();
        try {
            if (closed) {
                return 0;
            }
            int pendingRegular = Math.max(0, targetIdle() - idle.size() - checking - refillStarting);
            int room = Math.max(0, maxWorkers - total() - pendingRegular - surplusWanted);
            int granted = Math.min(count, room);
            surplusWanted += granted;
            changed.signalAll();
            return granted;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until at least {@code count} workers are idle, e.g. after build to be warm before
     * taking traffic.
     *
     * @return true when they are; false when {@code timeout} passed first or the pool closed
     * @throws InterruptedException when the waiting thread is interrupted
     */
    public boolean awaitIdle(int count, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (idle.size() < count) {
                if (closed || nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** A consistent snapshot of this pool's counters and sizes. Does not block on starts. */
    public WarmPoolStats stats() {
        lock.lock();
        try {
            return new WarmPoolStats(name, hits, misses, waits, timeouts, failures, unhealthy, evicted, idle.size(),
                    refillStarting + directStarting, handedOut + checking, latencies.quantile(0.5), latencies.quantile(0.99),
                    latencies.count());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the idle workers, stops the refill thread (waiting up to 10 s for a start in
     * flight, whose worker is then closed) and closes the delegate. Workers already handed
     * out are left alone: their sessions own them. Idempotent; afterwards {@link #start}
     * fails with {@code runtime_unavailable}.
     */
    @Override
    public void close() {
        List<IdleWorker> drained;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            drained = new ArrayList<>(idle);
            idle.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        drained.forEach(this::discard);
        if (Thread.currentThread() != refiller) {
            try {
                if (!refiller.join(CLOSE_WAIT)) {
                    log.warn("The {} pool's refill thread is still starting a worker after {}; it will close "
                            + "that worker when the start returns", name, CLOSE_WAIT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            delegate.close();
        } catch (RuntimeException e) {
            log.warn("Closing runtime {} failed", name, e);
        }
    }

    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    private void refillLoop() {
        long nextHousekeeping = System.nanoTime() + HOUSEKEEPING_NANOS;
        while (true) {
            boolean start = false;
            boolean surplus = false;
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        return;
                    }
                    long now = System.nanoTime();
                    if (now - nextHousekeeping >= 0) {
                        break;
                    }
                    if (wantsWorker() && now - backoffUntilNanos >= 0) {
                        surplus = idle.size() + checking + refillStarting >= targetIdle();
                        if (surplus) {
                            surplusWanted--;
                        }
                        refillStarting++;
                        start = true;
                        break;
                    }
                    long wait = nextHousekeeping - now;
                    if (wantsWorker()) {
                        wait = Math.min(wait, backoffUntilNanos - now);
                    }
                    changed.awaitNanos(wait);
                }
            } catch (InterruptedException e) {
                // Nothing interrupts this thread but a JVM shutting down: stop refilling.
                return;
            } finally {
                lock.unlock();
            }
            if (start) {
                refillOne(surplus);
            } else {
                nextHousekeeping = System.nanoTime() + HOUSEKEEPING_NANOS;
                evictExpired();
            }
        }
    }

    /** Guarded by lock. Waiters come first: they take freed room themselves. */
    private boolean wantsWorker() {
        // A worker being checked counts as idle until it leaves, so a candidate that goes back
        // (its session's directory could not take it) does not leave a surplus behind.
        boolean below = idle.size() + checking + refillStarting < targetIdle() || surplusWanted > 0;
        return below && total() < maxWorkers && waiting == 0;
    }

    private void refillOne(boolean surplus) {
        long began = System.nanoTime();
        Worker worker;
        try {
            worker = delegate.start(new WorkerOptions(limits));
        } catch (RuntimeException e) {
            int failed = startFailed(() -> {
                refillStarting--;
                if (surplus) {
                    surplusWanted++;
                }
            });
            if (failed == 1) {
                log.warn("Pre-starting a {} worker failed; retrying with backoff", name, e);
            } else {
                log.debug("Pre-starting a {} worker failed ({} in a row)", name, failed, e);
            }
            return;
        }
        latencies.record(System.nanoTime() - began);
        lock.lock();
        try {
            refillStarting--;
            changed.signalAll();
            if (!closed) {
                idle.addLast(new IdleWorker(worker, clock.instant()));
                startSucceeded();
                return;
            }
        } finally {
            lock.unlock();
        }
        discard(new IdleWorker(worker, clock.instant()));
    }

    /** Guarded by lock. */
    private void startSucceeded() {
        consecutiveFailures = 0;
        backoffUntilNanos = System.nanoTime();
    }

    /** Books a failed start; returns how many failed in a row. */
    private int startFailed(Runnable release) {
        lock.lock();
        try {
            release.run();
            failures++;
            consecutiveFailures++;
            long backoff = Math.min(MAX_BACKOFF_NANOS, FIRST_BACKOFF_NANOS << Math.min(consecutiveFailures - 1, 20));
            backoffUntilNanos = System.nanoTime() + backoff;
            changed.signalAll();
            return consecutiveFailures;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes idle workers that died, and idle workers above {@code minIdle} (the oldest
     * first) that have been idle for {@code idleEvictionAfter} by the pool's clock. The
     * refill thread runs this once a second; tests call it after moving the clock.
     *
     * @implNote calls {@code Worker.state()} under the pool's lock, which the SPI allows
     *     since state must be cheap.
     * @return how many workers were closed
     */
    int evictExpired() {
        List<IdleWorker> gone = new ArrayList<>();
        lock.lock();
        try {
            for (Iterator<IdleWorker> it = idle.iterator(); it.hasNext(); ) {
                IdleWorker w = it.next();
                if (w.worker().state() == WorkerState.DEAD) {
                    it.remove();
                    unhealthy++;
                    gone.add(w);
                }
            }
            Instant now = clock.instant();
            int removable = idle.size() - targetIdle();
            List<IdleWorker> oldestFirst = new ArrayList<>(idle);
            oldestFirst.sort(Comparator.comparing(IdleWorker::since));
            for (IdleWorker w : oldestFirst) {
                if (removable <= 0) {
                    break;
                }
                if (!w.since().plus(idleEvictionAfter).isAfter(now)) {
                    idle.remove(w);
                    evicted++;
                    removable--;
                    gone.add(w);
                }
            }
            if (!gone.isEmpty()) {
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        gone.forEach(this::discard);
        return gone.size();
    }

    private void discard(IdleWorker w) {
        try {
            w.worker().close();
        } catch (RuntimeException e) {
            log.warn("Closing an idle {} worker failed", name, e);
        }
    }

    /** Guarded by lock. */
    private int total() {
        return idle.size() + checking + refillStarting + directStarting + handedOut;
    }

    private TetherException closedError() {
        return new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "the " + name + " pool is closed");
    }

    private TetherException unavailable(RuntimeException failure) {
        if (failure instanceof TetherException te) {
            return te;
        }
        return new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                "runtime " + name + " could not start a worker: " + failure.getMessage(), failure);
    }

    @Override
    public String toString() {
        return "WarmPool[" + stats() + "]";
    }
}
