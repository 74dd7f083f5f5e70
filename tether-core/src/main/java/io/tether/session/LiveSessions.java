package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.resource.ResourceCleanupException;
import io.tether.resource.ResourceTracker;
import io.tether.runtime.ExecutionResult;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import io.tether.store.SessionStore;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one owner of session state: the active sessions in memory (the cache in front of the
 * store), their keys, counters and listeners, every store write and every transition of a
 * live session — creation, activity, expiry, the move to a terminal status, limit release,
 * resource cleanup and events. It also decides who sees a session: a session outside the
 * caller's {@link Access} is {@code session_not_found} here, before anything changes.
 * Keys are kept by its {@link SessionKeys}, listeners by its {@link SessionEvents}; an
 * {@link ExecutionHistory} reads what it stored of executions. {@link SessionManager} is the
 * public face; it guards each call with its {@link ManagerGate}, runs code in workers and
 * applies policies through this class.
 *
 * <p>Thread-safe. Transitions of one session hold its {@link LiveSession#lock}, never a
 * monitor, since they write to the store.
 */
final class LiveSessions {
    private static final Logger log = LoggerFactory.getLogger(LiveSessions.class);

    private final SessionStore store;
    private final SessionLimits limits;
    private final WorkerShares workerShares;
    private final SessionMetrics metrics;
    private final SessionCounters counters = new SessionCounters();
    private final SessionEvents events;
    private final InstantSource clock;
    private final Duration cleanupTimeout;
    private final int executionHistory;
    /** This node: recorded on the sessions it creates or adopts. */
    private final String node;
    /** Whether other nodes share the store (their sessions are in it, not in {@link #live}). */
    private final boolean shared;
    private final ConcurrentHashMap<String, LiveSession> live = new ConcurrentHashMap<>();
    private final SessionKeys keys = new SessionKeys();

    LiveSessions(SessionStore store, InstantSource clock, SessionLimits limits, WorkerShares workerShares,
                 SessionMetrics metrics, List<SessionListener> listeners, Duration cleanupTimeout,
                 int executionHistory, String node, boolean shared) {
        this.node = node;
        this.shared = shared;
        this.store = store;
        this.clock = clock;
        this.limits = limits;
        this.workerShares = workerShares;
        this.metrics = metrics;
        this.events = new SessionEvents(listeners, metrics);
        this.cleanupTimeout = cleanupTimeout;
        this.executionHistory = executionHistory;
    }

    /**
     * Takes over the store's active sessions after a start: plain ones stay active, the
     * others had a worker in a process that is gone and end as {@code error} /
     * {@code node_lost}.
     * Over a shared store, only the sessions this node held: the others are their nodes'.
     */
    void recover() {
        boolean ownOnly = shared;
        counters.baseline(store.counts());
        int kept = 0;
        int lost = 0;
        for (Session s : store.findActive()) {
            if (ownOnly && !node.equals(s.node())) {
                continue;
            }
            if (s.isPlain()) {
                LiveSession ls = new LiveSession(s);
                live.put(s.id(), ls);
                if (s.key() != null) {
                    keys.recovered(ls);
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

    /**
     * Takes over the active sessions the store says node {@code lost} holds, after the
     * cluster gave that node up: a session with a worker ends {@code error} /
     * {@code node_lost} (its interpreter state died with the node); a plain one lost nothing
     * and moves to this node, as after a restart. A session that changed meanwhile (its node
     * wrote it last) is read again.
     *
     * @return how many sessions ended and how many moved here
     */
    NodeTakeover takeOver(String lost) {
        int ended = 0;
        int adopted = 0;
        for (Session s : store.findActive()) {
            if (!lost.equals(s.node())) {
                continue;
            }
            Session now = takeOver(s);
            if (now != null && now.isActive()) {
                adopted++;
            } else if (now != null) {
                ended++;
            }
        }
        if (ended + adopted > 0) {
            log.info("node {} was lost: ended {} of its sessions node_lost, took over {} plain ones", lost, ended,
                    adopted);
        }
        return new NodeTakeover(ended, adopted);
    }

    /** Takes over one session of a lost node; its record afterwards, or {@code null} when it was not its any more. */
    Session takeOver(Session s) {
        String lost = s.node();
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                if (s.isPlain()) {
                    Session adopted = s.withNode(node);
                    store.update(adopted);
                    LiveSession ls = new LiveSession(adopted);
                    live.put(adopted.id(), ls);
                    if (adopted.key() != null) {
                        keys.recovered(ls);
                    }
                    limits.force(adopted.owner());
                    counters.active(limits.total());
                    return adopted;
                }
                Session ended = s.withEnd(SessionStatus.ERROR, EndReason.NODE_LOST, now());
                store.update(ended);
                countEnded(ended);
                events.emit(new SessionEvent.Failed(ended, null, null));
                return ended;
            } catch (TetherException e) {
                if (e.code() != ErrorCode.STORE_FAILURE) {
                    throw e;
                }
                Optional<Session> again = store.find(s.id());
                if (again.isEmpty() || !again.get().isActive() || !java.util.Objects.equals(lost, again.get().node())) {
                    return null;
                }
                s = again.get();
            }
        }
        log.warn("could not take over session {} of lost node {}: it kept changing", s.id(), lost);
        return null;
    }

    /**
     * Lets go of the live sessions the cluster no longer counts as this node's: those the
     * store has ended or given to another node (it took them over while this node had lost
     * its lease), and, when {@code leaseLost}, every session with a worker, which ends
     * {@code error} / {@code node_lost} here as it did or will elsewhere. Their workers are
     * killed and their resources released; a record another node wrote is left as it is.
     *
     * @return how many sessions it let go
     */
    int releaseLost(boolean leaseLost) {
        int n = 0;
        for (LiveSession ls : live.values()) {
            Optional<Session> stored = store.find(ls.snapshot.id());
            if (stored.isEmpty() || !stored.get().isActive() || !node.equals(stored.get().node())) {
                dropEndedElsewhere(ls, stored.orElse(null));
                n++;
            } else if (leaseLost && ls.worker != null) {
                try {
                    finish(ls, SessionStatus.ERROR, s -> EndReason.NODE_LOST, null);
                } catch (TetherException e) {
                    // another node ended it first: its record stands
                    dropEndedElsewhere(ls, store.find(ls.snapshot.id()).orElse(null));
                }
                n++;
            }
        }
        if (n > 0) {
            log.warn("this node had lost its lease: let go of {} sessions the cluster gave up", n);
        }
        return n;
    }

    /** Forgets a live session another node has ended or taken: kills its worker, writes nothing. */
    private void dropEndedElsewhere(LiveSession ls, Session stored) {
        ls.lock.lock();
        try {
            if (stored != null) {
                ls.snapshot = stored;
            }
        } finally {
            ls.lock.unlock();
        }
        if (!live.remove(ls.snapshot.id(), ls)) {
            return;
        }
        Session s = ls.snapshot;
        if (s.key() != null) {
            keys.ended(s, ls);
        }
        limits.release(s.owner());
        if (ls.worker != null) {
            workerShares.release(s.owner(), s.runtime());
        }
        closeResources(ls);
    }

    /**
     * Creates a live session: reserves its place under the session limits (and a worker
     * share when {@code startWorker} is given), starts its worker, stores the record
     * {@code record} makes from the time now, and announces it. Everything reserved or
     * started is given back when a step fails.
     *
     * @param startWorker starts the session's worker; {@code null} for a plain session
     */
    LiveSession create(SessionSpec spec, Supplier<LiveWorker> startWorker, Function<Instant, Session> record) {
        long started = System.nanoTime();
        limits.reserve(spec.owner());
        boolean shareReserved = false;
        LiveWorker worker = null;
        try {
            if (startWorker != null) {
                workerShares.reserve(spec.owner(), spec.runtime());
                shareReserved = true;
                worker = startWorker.get();
            }
            Session s = record.apply(now());
            store.insert(s);
            LiveSession ls = new LiveSession(s, worker);
            if (worker != null) {
                tracker(ls).register("worker", 1, worker.worker);
            }
            metrics.creation().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            live.put(s.id(), ls);
            counters.created(limits.total());
            metrics.created(s.runtime());
            events.emit(new SessionEvent.Created(s));
            return ls;
        } catch (RuntimeException e) {
            if (worker != null) {
                worker.worker.close();
            }
            if (shareReserved) {
                workerShares.release(spec.owner(), spec.runtime());
            }
            limits.release(spec.owner());
            throw e;
        }
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
        if (shared) {
            Session elsewhere = activeElsewhere(spec.owner(), spec.key());
            if (elsewhere != null) {
                return elsewhere;
            }
        }
        return keys.getOrCreate(spec, create, this::expireIfDue);
    }

    /**
     * The owner's active session under {@code key} that another node holds, or {@code null}.
     * Best effort: two nodes creating the same key at the same moment may both create one,
     * unless the store refuses a second active session of an owner and key.
     */
    private Session activeElsewhere(String owner, String key) {
        SessionQuery q = SessionQuery.all().withOwner(owner).withStatus(SessionStatus.ACTIVE)
                .withLimit(SessionQuery.MAX_LIMIT);
        while (true) {
            Page<Session> page = store.list(q);
            for (Session s : page.items()) {
                if (key.equals(s.key()) && heldElsewhere(s)) {
                    return s;
                }
            }
            if (page.nextCursor() == null) {
                return null;
            }
            q = q.after(page.nextCursor());
        }
    }

    /**
     * Applies {@code change} to a usable session under its lock and keeps the result as its
     * snapshot. {@code change} may store the result (and throw: nothing changes then).
     *
     * @throws TetherException {@code session_ended}, after ending the session as timed out
     *     when it has just expired
     */
    private Session changeActive(LiveSession ls, BiFunction<Session, Instant, Session> change) {
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

    /**
     * Counts an interaction: the session's last activity becomes now and its interaction
     * count grows by one; stored write-behind, no event.
     *
     * @throws TetherException {@code session_ended} (also when it had expired: it is ended
     *     as timed out first)
     */
    Session interact(LiveSession ls) {
        Session s = changeActive(ls, Session::withActivity);
        store.recordActivity(s.id(), s.lastActivityAt(), s.interactionCount());
        return s;
    }

    /** {@link #interact} with the session's {@code touched} event: what a caller's touch does. */
    Session touch(Access access, String id) {
        Session touched = interact(live(access, id));
        if (events.heard()) {
            events.emit(new SessionEvent.Touched(touched));
        }
        return touched;
    }

    /** Merges the patches into the session's data and metadata; see {@link SessionManager#update}. */
    Session update(Access access, String id, Map<String, ?> dataPatch, Map<String, ?> metadataPatch) {
        Session updated = changeActive(live(access, id), (s, now) -> {
            Session next = s.withState(JsonObjects.merge(s.data(), dataPatch, "data"),
                    JsonObjects.merge(s.metadata(), metadataPatch, "metadata"), now);
            store.update(next);
            return next;
        });
        events.emit(new SessionEvent.Touched(updated));
        return updated;
    }

    /**
     * Keeps an execution that ended (the newest {@code executionHistory} are kept) and counts
     * it. Its end is activity too, but not another interaction.
     */
    void afterExecution(LiveSession ls, ExecutionRecord record) {
        store.recordExecution(record, executionHistory);
        ExecutionResult result = record.result();
        metrics.executed(ls.snapshot.runtime(), result.status().wireName(), result.duration());
        Instant now = now();
        Session after = null;
        ls.lock.lock();
        try {
            if (ls.snapshot.isActive()) {
                after = ls.snapshot.withLastActivity(now);
                ls.snapshot = after;
            }
        } finally {
            ls.lock.unlock();
        }
        if (after != null) {
            store.recordActivity(after.id(), after.lastActivityAt(), after.interactionCount());
        }
    }

    private ResourceTracker tracker(LiveSession ls) {
        return ls.tracker(cleanupTimeout, (type, cost) -> metrics.resourceRegistered(type));
    }

    /** The resource tracker of a usable session; see {@link SessionManager#resources}. */
    ResourceTracker resources(Access access, String id) {
        return tracker(active(access, id));
    }

    /**
     * Moves the session to {@code status} with {@code reason} unless it has left
     * {@code active} already; see {@link SessionManager#end}.
     *
     * @return the session's record afterwards
     * @throws TetherException {@code session_not_found}
     */
    Session terminate(Access access, String id, SessionStatus status, EndReason reason, Throwable cause) {
        LiveSession ls = id == null ? null : live.get(id);
        if (ls == null || !access.sees(ls.snapshot.owner())) {
            Session stored = stored(access, id).orElseThrow(() -> notFound(id));
            if (ls == null && heldElsewhere(stored)) {
                throw elsewhere(stored);
            }
            return stored;
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
                terminate(Access.SYSTEM, ls.snapshot.id(), SessionStatus.ERROR, idle.reason(), idle.cause(0, null));
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
    private Session expireIfDue(LiveSession ls) {
        Instant now = now();
        if (ls.snapshot.isActive() && expiryOf(ls, ls.snapshot, now) != null) {
            timeOutIfDue(ls, now);
        }
        return ls.snapshot;
    }

    private boolean timeOutIfDue(LiveSession ls, Instant now) {
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
    private Session finish(LiveSession ls, SessionStatus status, Function<Session, EndReason> reasonIfDue,
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
            keys.ended(ended, ls);
        }
        limits.release(ended.owner());
        if (ls.worker != null) {
            workerShares.release(ended.owner(), ended.runtime());
        }
        countEnded(ended);
        RuntimeException cleanupFailure = closeResources(ls);
        events.emit(switch (status) {
            case TIMEOUT -> new SessionEvent.TimedOut(ended, cleanupFailure);
            case ERROR -> new SessionEvent.Failed(ended, cause, cleanupFailure);
            default -> new SessionEvent.Ended(ended, cleanupFailure);
        });
        return ended;
    }

    private void countEnded(Session ended) {
        counters.ended(ended.endReason());
        metrics.ended(ended.status(), ended.endReason());
    }

    /** Closes what a session holds; returns the failure (already logged) or {@code null}. */
    private RuntimeException closeResources(LiveSession ls) {
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

    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    /**
     * The live state of a session the caller may see, whatever its status now.
     *
     * @throws TetherException {@code session_not_found}; {@code session_ended} when only the
     *     store has it
     */
    LiveSession live(Access access, String id) {
        LiveSession ls = id == null ? null : live.get(id);
        if (ls != null && access.sees(ls.snapshot.owner())) {
            return ls;
        }
        Optional<Session> stored = ls == null ? stored(access, id) : Optional.empty();
        if (stored.isPresent()) {
            throw heldElsewhere(stored.get()) ? elsewhere(stored.get()) : ended(id);
        }
        throw notFound(id);
    }

    /**
     * The live state of an active session the caller may see, after ending it as timed out
     * when it has expired.
     *
     * @throws TetherException {@code session_not_found}, {@code session_ended}
     */
    LiveSession active(Access access, String id) {
        LiveSession ls = live(access, id);
        if (!expireIfDue(ls).isActive()) {
            throw ended(id);
        }
        return ls;
    }

    /** The live state of session {@code id}, or {@code null}; for the manager's own work. */
    LiveSession liveOrNull(String id) {
        return live.get(id);
    }

    /** Whether {@code ls} is still the live state of its session (it has not ended). */
    boolean isLive(LiveSession ls) {
        return live.get(ls.snapshot.id()) == ls;
    }

    /** The session in any status if the caller may see it, or empty. */
    Optional<Session> find(Access access, String id) {
        LiveSession ls = id == null ? null : live.get(id);
        if (ls != null) {
            return access.sees(ls.snapshot.owner()) ? Optional.of(expireIfDue(ls)) : Optional.empty();
        }
        return stored(access, id);
    }

    /** The store's record of the session if the caller may see it, or empty. */
    private Optional<Session> stored(Access access, String id) {
        return id == null ? Optional.empty() : store.find(id).filter(s -> access.sees(s.owner()));
    }

    /**
     * One page of the sessions the caller may see that match {@code query}; active ones as
     * they are in memory.
     *
     * @throws TetherException {@code invalid_request} when a caller who is not an admin asks
     *     for another owner's sessions
     */
    Page<Session> list(Access access, SessionQuery query) {
        if (!access.admin()) {
            if (query.owner() != null && !query.owner().equals(access.owner())) {
                throw TetherException.invalid("owner '" + query.owner() + "': only an admin may list another "
                        + "owner's sessions");
            }
            query = query.withOwner(access.owner());
        }
        Page<Session> page = store.list(query);
        List<Session> items = new ArrayList<>(page.items().size());
        for (Session s : page.items()) {
            LiveSession ls = s.isActive() ? live.get(s.id()) : null;
            items.add(ls != null ? ls.snapshot : s);
        }
        return new Page<>(items, page.nextCursor());
    }

    SessionStats stats() {
        return counters.stats(limits.total(), limits.perOwner());
    }

    /**
     * The live state of a session the caller may see, or {@code null} when it is not live
     * but the store has it (ended, or live on another node).
     *
     * @throws TetherException {@code session_not_found} when the caller sees no such session
     */
    LiveSession liveOrStored(Access access, String id) {
        LiveSession ls = id == null ? null : live.get(id);
        if (ls != null && access.sees(ls.snapshot.owner())) {
            return ls;
        }
        if (ls == null && stored(access, id).isPresent()) {
            return null;
        }
        throw notFound(id);
    }

    /**
     * Deletes the sessions that ended before {@code cutoff}, {@code batch} per store write,
     * while {@code more} says to go on.
     *
     * @return how many it deleted
     */
    int purgeEnded(Instant cutoff, int batch, BooleanSupplier more) {
        int purged = 0;
        int n;
        do {
            n = store.purgeEnded(cutoff, batch);
            purged += n;
        } while (n == batch && more.getAsBoolean());
        if (purged > 0) {
            metrics.purged(purged);
            log.info("purged {} sessions that ended before {}", purged, cutoff);
        }
        return purged;
    }

    void addListener(SessionListener listener) {
        events.add(listener);
    }

    void removeListener(SessionListener listener) {
        events.remove(listener);
    }

    /** Closes the store, after {@link #releaseAll}. */
    void closeStore() {
        store.close();
    }

    /** The error for a session found unusable: ends it first when it has just expired. */
    private TetherException endedAfterExpiry(LiveSession ls) {
        expireIfDue(ls);
        return ended(ls.snapshot.id());
    }

    static TetherException notFound(String id) {
        return new TetherException(ErrorCode.SESSION_NOT_FOUND, "no session with id '" + id + "'");
    }

    /** Whether a stored session is active on another node (it is not in this node's memory). */
    private boolean heldElsewhere(Session stored) {
        return stored.isActive() && stored.node() != null && !node.equals(stored.node());
    }

    /** The error for an active session another node holds: it is not this node's to serve. */
    static TetherException elsewhere(Session s) {
        return new TetherException(ErrorCode.NODE_UNAVAILABLE, "session '" + s.id() + "' is live on node '"
                + s.node() + "', not on this one");
    }

    static TetherException ended(String id) {
        return new TetherException(ErrorCode.SESSION_ENDED, "session '" + id + "' has ended");
    }
}
