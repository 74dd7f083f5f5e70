package io.tether.store;

import io.tether.session.ExecutionRecord;
import io.tether.session.Session;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where sessions are kept: the service-provider interface behind the session manager.
 *
 * <p>Contract every implementation keeps:
 * <ul>
 *   <li>{@link #insert} and {@link #update} are durable when they return: after a crash of
 *       the process the change is there on the next open.</li>
 *   <li>{@link #recordActivity} and {@link #recordExecution} may be deferred and
 *       coalesced (write-behind); they are flushed within a bounded delay and by
 *       {@link #flush()} and {@link #close()}. Deferred activity never moves a session's
 *       activity or interaction count backwards.</li>
 *   <li>Reads return what was last written, deferred writes possibly excepted.</li>
 *   <li>Methods are thread-safe. They throw {@link io.tether.TetherException} with code
 *       {@code store_failure} when storage fails; the change then did not happen.</li>
 * </ul>
 *
 * <p>A session manager is the only writer of its store: implementations need not guard
 * against two processes writing the same sessions, except a store made to be shared by
 * several servers (PostgreSQL), whose {@link #update} refuses a version it does not follow.
 */
public interface SessionStore extends AutoCloseable {

    /**
     * Stores a new session. Durable on return.
     *
     * @throws io.tether.TetherException {@code store_failure}; also when the id exists;
     *     {@code limit_exceeded} from a store that checks session limits itself (a shared one,
     *     whose other writers' sessions count)
     */
    void insert(Session session);

    /**
     * Replaces a stored session with a newer version of it ({@code session.version()} is
     * one more than the stored version). Durable on return.
     *
     * @throws io.tether.TetherException {@code store_failure} when the session is missing
     *     or its stored version is not {@code session.version() - 1}
     */
    void update(Session session);

    /**
     * Records that a session was active at {@code at} and has now had
     * {@code interactionCount} interactions. May be deferred; never moves either value
     * backwards.
     */
    void recordActivity(String id, Instant at, long interactionCount);

    /**
     * Keeps a finished execution, and forgets the same session's executions numbered
     * {@code keep} or more below it, so each session keeps a bounded history. May be
     * deferred like activity (an execution's result reaches its caller directly; the
     * record is its history): flushed within a bounded delay and by {@link #flush()} and
     * {@link #close()}.
     *
     * @param keep how many of the session's newest executions to keep, at least 1
     */
    void recordExecution(ExecutionRecord execution, int keep);

    /** The kept execution {@code number} of session {@code sessionId}, or empty. */
    Optional<ExecutionRecord> findExecution(String sessionId, long number);

    /**
     * Up to {@code limit} of the kept executions of session {@code sessionId} numbered below
     * {@code before}, newest (highest number) first; empty when there are none. Sees recorded
     * executions at once, deferred or not, like {@link #findExecution}.
     *
     * @param before only executions with a smaller number; {@link Long#MAX_VALUE} for the newest
     * @param limit  at least 1
     */
    List<ExecutionRecord> listExecutions(String sessionId, long before, int limit);

    /** The session with this id in any status, or empty. */
    Optional<Session> find(String id);

    /** One page of sessions matching {@code query}, newest first. */
    Page<Session> list(SessionQuery query);

    /** Every session whose status is {@code active}; used to recover after a restart. */
    List<Session> findActive();

    /**
     * Deletes up to {@code max} sessions that ended before {@code endedBefore}, oldest end
     * first, together with their kept executions. Active sessions are never deleted. Durable
     * on return; a caller deletes a large backlog in several calls, so each stays short.
     *
     * @param max at least 1
     * @return how many sessions were deleted: fewer than {@code max} once none is left
     */
    int purgeEnded(Instant endedBefore, int max);

    /** How many sessions the store holds, by status and end reason. */
    StoreCounts counts();

    /** Writes any deferred activity and executions now. */
    void flush();

    /** Flushes, then releases the storage. Idempotent. */
    @Override
    void close();
}
