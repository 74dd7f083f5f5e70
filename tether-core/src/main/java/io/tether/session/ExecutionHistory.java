package io.tether.session;

import io.tether.store.SessionStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Reads a session's executions: the running one from its live worker, the ended ones from
 * the store (which {@link LiveSessions} writes them to). Who may read them is decided by
 * {@link LiveSessions#liveOrStored}. Thread-safe; reads only.
 */
final class ExecutionHistory {
    private final LiveSessions sessions;
    private final SessionStore store;

    ExecutionHistory(LiveSessions sessions, SessionStore store) {
        this.sessions = sessions;
        this.store = store;
    }

    /** Execution {@code number} of a session the caller may see; see {@link SessionManager#execution}. */
    Optional<ExecutionRecord> execution(Access access, String id, long number) {
        LiveSession ls = sessions.liveOrStored(access, id);
        if (ls != null && ls.worker != null) {
            ExecutionRecord running = ls.worker.runningRecord(id, number);
            if (running != null) {
                return Optional.of(running);
            }
        }
        return store.findExecution(id, number);
    }

    /** A page of a session's executions, newest first; see {@link SessionManager#executions}. */
    List<ExecutionRecord> executions(Access access, String id, long before, int limit) {
        LiveSession ls = sessions.liveOrStored(access, id);
        ExecutionRecord running = ls != null && ls.worker != null ? ls.worker.runningRecord(id) : null;
        if (running == null || running.number() >= before) {
            return store.listExecutions(id, before, limit);
        }
        List<ExecutionRecord> out = new ArrayList<>(store.listExecutions(id, before, limit));
        // It may have been stored meanwhile: then the stored one is that execution.
        if (out.stream().noneMatch(e -> e.number() == running.number())) {
            out.add(running);
            out.sort(Comparator.comparingLong(ExecutionRecord::number).reversed());
            if (out.size() > limit) {
                out.remove(limit);
            }
        }
        return out;
    }
}
