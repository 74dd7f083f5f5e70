package io.tether.resource;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one session holds: closeable resources, background tasks and the cache of
 * code already deployed to its runtime. Released all together, once, by {@link #close()}.
 *
 * <p>Closing order is the reverse of registration. Every resource is attempted even when
 * others fail, each bounded by the cleanup timeout (a close that overruns is abandoned on
 * its own thread and reported). Failures are gathered into one
 * {@link ResourceCleanupException} and logged.
 *
 * <p>Thread-safe. Registering after close closes the new resource at once and throws
 * {@code session_ended}.
 */
public final class ResourceTracker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ResourceTracker.class);

    /** Told of every registration, e.g. to count resources by type in metrics. */
    @FunctionalInterface
    public interface RegistrationListener {
        void registered(String type, long cost);
    }

    private final String owner;
    private final Duration cleanupTimeout;
    private final RegistrationListener listener;
    private final DeployedCodeCache deployedCode = new DeployedCodeCache();
    private final List<Entry> entries = new ArrayList<>(4);
    private boolean closed;

    /**
     * @param owner          names the holder in messages and logs, e.g. {@code session 7Hq…}
     * @param cleanupTimeout how long one resource may take to close
     * @param listener       told of every registration
     */
    public ResourceTracker(String owner, Duration cleanupTimeout, RegistrationListener listener) {
        this.owner = Objects.requireNonNull(owner, "owner");
        this.cleanupTimeout = Objects.requireNonNull(cleanupTimeout, "cleanupTimeout");
        if (cleanupTimeout.isNegative() || cleanupTimeout.isZero()) {
            throw new IllegalArgumentException("cleanupTimeout must be positive, got " + cleanupTimeout);
        }
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Tracks {@code resource} until the session ends or the returned handle is released.
     *
     * @param type a short name grouping like resources in stats, e.g. {@code process}
     * @param cost an estimate in any unit the caller uses consistently (bytes, say); ≥ 0
     * @throws TetherException {@code session_ended} when the tracker is closed (the
     *     resource is closed before this is thrown)
     */
    public TrackedResource register(String type, long cost, AutoCloseable resource) {
        Objects.requireNonNull(resource, "resource");
        return add(new Entry(checkType(type), checkCost(cost), resource::close, resource));
    }

    /**
     * Tracks a background task: it is cancelled (with interruption) when the session ends.
     *
     * @throws TetherException {@code session_ended} when the tracker is closed (the task is
     *     cancelled before this is thrown)
     */
    public TrackedResource registerTask(String type, Future<?> task) {
        Objects.requireNonNull(task, "task");
        return add(new Entry(checkType(type), 0, () -> task.cancel(true), task));
    }

    private TrackedResource add(Entry e) {
        boolean added;
        synchronized (this) {
            added = !closed && entries.add(e);
        }
        if (added) {
            try {
                listener.registered(e.type, e.cost);
            } catch (RuntimeException failure) {
                // the resource is tracked either way; a broken listener must not make the
                // caller believe otherwise and close it a second time
                log.warn("registration listener failed for a {} of {}", e.type, owner, failure);
            }
            return e;
        }
        Throwable failure = closeBounded(e);
        if (failure != null) {
            log.warn("closing a {} registered after {} ended failed", e.type, owner, failure);
        }
        throw new TetherException(ErrorCode.SESSION_ENDED, owner + " has ended; its " + e.type + " was closed");
    }

    /** The cache of code already deployed to this session's runtime. */
    public DeployedCodeCache deployedCode() {
        return deployedCode;
    }

    public synchronized ResourceStats stats() {
        if (entries.isEmpty()) {
            return ResourceStats.EMPTY;
        }
        long total = 0;
        Map<String, ResourceStats.TypeStats> byType = new HashMap<>();
        for (Entry e : entries) {
            total += e.cost;
            byType.merge(e.type, new ResourceStats.TypeStats(1, e.cost),
                    (a, b) -> new ResourceStats.TypeStats(a.count() + b.count(), a.cost() + b.cost()));
        }
        return new ResourceStats(entries.size(), total, byType);
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Closes every resource in reverse registration order and invalidates the deployed-code
     * cache. Idempotent: later calls do nothing.
     *
     * @throws ResourceCleanupException when any resource failed or timed out; all were
     *     attempted
     */
    @Override
    public void close() {
        List<Entry> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = new ArrayList<>(entries);
            entries.clear();
        }
        deployedCode.invalidate();
        List<Throwable> failures = new ArrayList<>();
        List<String> what = new ArrayList<>();
        for (int i = toClose.size() - 1; i >= 0; i--) {
            Entry e = toClose.get(i);
            Throwable failure = closeBounded(e);
            if (failure != null) {
                failures.add(failure);
                what.add(e.type + " (" + failure.getMessage() + ")");
            }
        }
        if (!failures.isEmpty()) {
            ResourceCleanupException ex = new ResourceCleanupException(owner, toClose.size(), failures, what);
            log.warn("{}", ex.getMessage(), ex);
            throw ex;
        }
    }

    /** Closes one entry on a virtual thread and waits at most the cleanup timeout. */
    private Throwable closeBounded(Entry e) {
        Throwable[] failure = new Throwable[1];
        Thread closer = Thread.ofVirtual().name("tether-cleanup-" + e.type).start(() -> {
            try {
                e.closer.close();
            } catch (Throwable t) {
                failure[0] = t;
            }
        });
        try {
            if (!closer.join(cleanupTimeout)) {
                closer.interrupt();
                return new TetherException(ErrorCode.INTERNAL, e.type + " did not close within "
                        + cleanupTimeout.toMillis() + " ms");
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return new TetherException(ErrorCode.INTERNAL, "interrupted while closing " + e.type, interrupted);
        }
        return failure[0]; // join() makes the closer's write visible here
    }

    private static String checkType(String type) {
        if (type == null || type.isBlank() || type.length() > 64) {
            throw TetherException.invalid("resource type must be 1-64 characters, got '" + type + "'");
        }
        return type;
    }

    private static long checkCost(long cost) {
        if (cost < 0) {
            throw TetherException.invalid("resource cost must be ≥ 0, got " + cost);
        }
        return cost;
    }

    /** Something that releases one resource. */
    @FunctionalInterface
    private interface Closer {
        void close() throws Exception;
    }

    private final class Entry implements TrackedResource {
        final String type;
        final long cost;
        final Closer closer;
        final Object target;

        Entry(String type, long cost, Closer closer, Object target) {
            this.type = type;
            this.cost = cost;
            this.closer = closer;
            this.target = target;
        }

        @Override
        public String type() {
            return type;
        }

        @Override
        public long cost() {
            return cost;
        }

        @Override
        public void release() throws Exception {
            boolean mine;
            synchronized (ResourceTracker.this) {
                mine = entries.remove(this);
            }
            if (mine) {
                closer.close();
            }
        }

        @Override
        public String toString() {
            return type + "(" + target + ")";
        }
    }
}
