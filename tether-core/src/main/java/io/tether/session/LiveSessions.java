package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.resource.ResourceCleanupException;
import io.tether.resource.ResourceTracker;
import io.tether.store.SessionStore;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's engine room: the active sessions in memory (the cache in front of the
 * store), their keys, and every transition of a live session — activity, expiry, the
 * move to a terminal status with its store write, limit release, resource cleanup and
 * event. {@link SessionManager} is the public face; it guards each call with its
 * {@link ManagerGate} and then works through this class.
 *
 * <p>Thread-safe. Transitions of one session hold its {@link LiveSession#lock}, never a
 * monitor, since they write to the store.
 */
final class LiveSessions {
    private static final Logger log = LoggerFactory.getLogger(LiveSessions.class);

    final SessionStore store;
    final SessionLimits limits;
    final WorkerShares workerShares;
    final SessionMetrics metrics;
    final SessionCounters counters = new SessionCounters();
    final List<SessionListener> listeners;
    private final InstantSource clock;
    private final Duration cleanupTimeout;
    final ConcurrentHashMap<String, LiveSession> live = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<OwnerKey, CompletableFuture<LiveSession>> byKey = new ConcurrentHashMap<>();

    LiveSessions(SessionStore store, InstantSource clock, SessionLimits limits, WorkerShares workerShares,
                 SessionMetrics metrics, List<SessionListener> listeners, Duration cleanupTimeout) {
        this.store = store;
        this.clock = clock;
        this.limits = limits;
        this.workerShares = workerShares;
        this.metrics = metrics;
        this.listeners = listeners;
        this.cleanupTimeout = cleanupTimeout;
    }

    /**
     * Takes over the store's active sessions after a start: plain ones stay active, the
     * others had a worker in a process that is gone and end as {@code error} /
     * {@code node_lost}.
     */
    void recover() {
        counters.baseline(store.counts());
        int kept = 0;
        int lost = 0;
        for (Session s : store.findActive()) {
            if (s.isPlain()) {
                LiveSession ls = new LiveSession(s);
                live.put(s.id(), ls);
                if (s.key() != null) {
                    byKey.put(new OwnerKey(s.owner(), s.key()), CompletableFuture.completedFuture(ls));
                }
                limits.force(s.owner());
                kept++;
            } else {
                Session ended = s.withEnd(SessionStatus.ERROR, EndReason.NODE_LOST, now());
                store.update(ended);
                countEnded(ended);
                lost++;
            }
        }
        counters.active(limits.total());
        if (kept + lost > 0) {
            log.info("recovered {} active plain sessions; ended {} sessions whose worker was lost", kept, lost);
        }
    }

    /** Makes a session just stored live (its limits are already reserved) and announces it. */
    void add(LiveSession ls) {
        live.put(ls.snapshot.id(), ls);
        counters.created(limits.total());
        metrics.created(ls.snapshot.runtime());
        emit(new SessionEvent.Created(ls.snapshot));
    }

    /**
     * At shutdown: ends every session that has a worker ({@code server_shutdown}) and
     * releases the resources of plain ones (they stay active in the store), in parallel,
     * until the deadline ({@link System#nanoTime}); then flushes the store.
     */
    void releaseAll(long deadline) {
        List<Thread> releasing = new ArrayList<>();
        for (LiveSession ls : live.values()) {
            releasing.add(Thread.ofVirtual().name("tether-shutdown").start(() -> {
                try {
                    if (ls.snapshot.isPlain()) {
                        live.remove(ls.snapshot.id(), ls);
                        closeResources(ls);
                    } else {
                        finish(ls, SessionStatus.ENDED, s -> EndReason.SERVER_SHUTDOWN, null);
                    }
                } catch (RuntimeException e) {
                    log.warn("releasing session {} at shutdown failed", ls.snapshot.id(), e);
                }
            }));
        }
        for (Thread t : releasing) {
            long left = deadline - System.nanoTime();
            try {
                if (left <= 0 || !t.join(Duration.ofNanos(left))) {
                    log.warn("the shutdown deadline passed with sessions still releasing");
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        store.flush();
    }

    /**
     * The owner's active session under {@code spec.key()}, or one {@code create} makes;
     * racing callers with the same owner and key all get the same session.
     */
    Session getOrCreateKeyed(SessionSpec spec, Function<SessionSpec, LiveSession> create) {
        OwnerKey k = new OwnerKey(spec.owner(), spec.key());
        while (true) {
            CompletableFuture<LiveSession> mine = new CompletableFuture<>();
            CompletableFuture<LiveSession> existing = byKey.putIfAbsent(k, mine);
            if (existing == null) {
                try {
                    LiveSession ls = create.apply(spec);
                    mine.complete(ls);
                    return ls.snapshot;
                } catch (RuntimeException e) {
                    byKey.remove(k, mine);
                    mine.completeExceptionally(e);
                    throw e;
                }
            }
            LiveSession ls;
            try {
                ls = existing.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException re ? re : e;
            }
            Session s = expireIfDue(ls);
            if (s.isActive()) {
                return s;
            }
            byKey.remove(k, existing);
        }
    }

    /**
     * Applies {@code change} to a usable session under its lock and keeps the result as its
     * snapshot. {@code change} may store the result (and throw: nothing changes then).
     *
     * @throws TetherException {@code session_not_found}; {@code session_ended}, after ending
     *     the session as timed out when it has just expired
     */
    Session changeActive(String id, BiFunction<Session, Instant, Session> change) {
        LiveSession ls = liveOrThrow(id);
        Instant now = now();
        Session changed = null;
        ls.lock.lock();
        try {
            Session s = ls.snapshot;
            if (s.isActive() && expiryOf(ls, s, now) == null) {
                changed = change.apply(s, now);
                ls.snapshot = changed;
            }
        } finally {
            ls.lock.unlock();
        }
        if (changed == null) {
            throw endedAfterExpiry(ls);
        }
        return changed;
    }

    ResourceTracker tracker(LiveSession ls) {
        return ls.tracker(cleanupTimeout, (type, cost) -> metrics.resourceRegistered(type));
    }

    Session terminateLive(String id, SessionStatus status, EndReason reason, Throwable cause) {
        LiveSession ls = id == null ? null : live.get(id);
        if (ls == null) {
            return (id == null ? Optional.<Session>empty() : store.find(id)).orElseThrow(() -> notFound(id));
        }
        Session expired = expireIfDue(ls);
        if (!expired.isActive()) {
            return expired;
        }
        return finish(ls, status, s -> reason, cause);
    }

    int reapExpired() {
        Instant now = now();
        int n = 0;
        for (LiveSession ls : live.values()) {
            if (expiryOf(ls, ls.snapshot, now) != null && timeOutIfDue(ls, now)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Kills the worker of every session past its disk quota or CPU time. A running execution
     * then ends {@code crashed} and its session ends as the execution returns (see
     * {@link SessionManager#execute}); a session between executions ends here.
     *
     * @return how many sessions this pass ended (or will end as their execution returns)
     */
    int checkLimits() {
        int n = 0;
        for (LiveSession ls : live.values()) {
            LiveWorker lw = ls.worker;
            if (lw == null || lw.death() != null) {
                continue;
            }
            WorkerDeath idle = lw.checkLimits();
            if (idle != null) {
                terminateLive(ls.snapshot.id(), SessionStatus.ERROR, idle.reason(), idle.cause(0, null));
                n++;
            } else if (lw.death() != null) {
                n++;
            }
        }
        return n;
    }

    /** Why {@code s} has expired at {@code now}: never for idleness while it executes. */
    static EndReason expiryOf(LiveSession ls, Session s, Instant now) {
        EndReason why = s.expiryAt(now);
        return why == EndReason.IDLE_TIMEOUT && ls.busy() ? null : why;
    }

    /** The session as it is, after ending it as timed out when it has expired. */
    Session expireIfDue(LiveSession ls) {
        Instant now = now();
        if (ls.snapshot.isActive() && expiryOf(ls, ls.snapshot, now) != null) {
            timeOutIfDue(ls, now);
        }
        return ls.snapshot;
    }

    boolean timeOutIfDue(LiveSession ls, Instant now) {
        Session before = ls.snapshot;
        Session after = finish(ls, SessionStatus.TIMEOUT, s -> expiryOf(ls, s, now), null);
        return after != before && after.status() == SessionStatus.TIMEOUT;
    }

    /**
     * Moves a live session to a terminal status with the reason {@code reasonIfDue} gives
     * under the session's lock ({@code null}: not due, nothing happens), stores that,
     * releases its limits and resources and emits the event.
     *
     * @return the session's record afterwards, ended by this call or before it
     */
    Session finish(LiveSession ls, SessionStatus status, Function<Session, EndReason> reasonIfDue,
                           Throwable cause) {
        Session ended;
        ls.lock.lock();
        try {
            Session s = ls.snapshot;
            EndReason why = s.isActive() ? reasonIfDue.apply(s) : null;
            if (why == null) {
                return s;
            }
            ended = s.withEnd(status, why, now());
            store.update(ended);
            ls.snapshot = ended;
        } finally {
            ls.lock.unlock();
        }
        live.remove(ended.id(), ls);
        if (ended.key() != null) {
            byKey.computeIfPresent(new OwnerKey(ended.owner(), ended.key()),
                    (k, f) -> f.isDone() && !f.isCompletedExceptionally() && f.join() == ls ? null : f);
        }
        limits.release(ended.owner());
        if (ls.worker != null) {
            workerShares.release(ended.owner(), ended.runtime());
        }
        countEnded(ended);
        RuntimeException cleanupFailure = closeResources(ls);
        emit(switch (status) {
            case TIMEOUT -> new SessionEvent.TimedOut(ended, cleanupFailure);
            case ERROR -> new SessionEvent.Failed(ended, cause, cleanupFailure);
            default -> new SessionEvent.Ended(ended, cleanupFailure);
        });
        return ended;
    }

    void countEnded(Session ended) {
        counters.ended(ended.endReason());
        metrics.ended(ended.status(), ended.endReason());
    }

    /** Closes what a session holds; returns the failure (already logged) or {@code null}. */
    RuntimeException closeResources(LiveSession ls) {
        ResourceTracker tracker = ls.trackerIfAny();
        if (tracker == null) {
            return null;
        }
        try {
            tracker.close();
            return null;
        } catch (ResourceCleanupException e) {
            metrics.cleanupFailed(e.failed());
            return e;
        } catch (RuntimeException e) {
            log.warn("releasing the resources of session {} failed", ls.snapshot.id(), e);
            metrics.cleanupFailed(1);
            return e;
        }
    }

    void emit(SessionEvent event) {
        for (SessionListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                metrics.listenerFailed();
                log.warn("session listener {} threw on {}", l, event.getClass().getSimpleName(), e);
            }
        }
    }

    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    LiveSession liveOrThrow(String id) {
        LiveSession ls = id == null ? null : live.get(id);
        if (ls != null) {
            return ls;
        }
        if (id != null && store.find(id).isPresent()) {
            throw ended(id);
        }
        throw notFound(id);
    }

    /** The error for a session found unusable: ends it first when it has just expired. */
    TetherException endedAfterExpiry(LiveSession ls) {
        expireIfDue(ls);
        return ended(ls.snapshot.id());
    }

    static TetherException notFound(String id) {
        return new TetherException(ErrorCode.SESSION_NOT_FOUND, "no session with id '" + id + "'");
    }

    static TetherException ended(String id) {
        return new TetherException(ErrorCode.SESSION_ENDED, "session '" + id + "' has ended");
    }

    record OwnerKey(String owner, String key) {
    }
}
