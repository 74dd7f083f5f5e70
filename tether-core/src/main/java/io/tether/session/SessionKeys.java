package io.tether.session;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The active session of each owner and key, so that callers racing to get-or-create the
 * same one all get the same session. A part of {@link LiveSessions}, which tells it of every
 * keyed session that becomes live or ends.
 *
 * <p>Thread-safe: the first caller for a key creates; the others wait for its outcome.
 */
final class SessionKeys {
    private final ConcurrentHashMap<OwnerKey, CompletableFuture<LiveSession>> byKey = new ConcurrentHashMap<>();

    /** A keyed session found active in the store at start. */
    void recovered(LiveSession ls) {
        Session s = ls.snapshot;
        byKey.put(new OwnerKey(s.owner(), s.key()), CompletableFuture.completedFuture(ls));
    }

    /**
     * The owner's active session under {@code spec.key()}, or one {@code create} makes.
     *
     * @param current the session as it is now, after ending it when it has expired
     */
    Session getOrCreate(SessionSpec spec, Function<SessionSpec, LiveSession> create,
                        Function<LiveSession, Session> current) {
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
            Session s = current.apply(ls);
            if (s.isActive()) {
                return s;
            }
            byKey.remove(k, existing);
        }
    }

    /** A keyed session ended: the next get-or-create of its key creates a new one. */
    void ended(Session ended, LiveSession ls) {
        byKey.computeIfPresent(new OwnerKey(ended.owner(), ended.key()),
                (k, f) -> f.isDone() && !f.isCompletedExceptionally() && f.join() == ls ? null : f);
    }

    private record OwnerKey(String owner, String key) {
    }
}
