package io.tether.server.mcp;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MCP sessions this server opened ({@code Mcp-Session-Id}), each with the owner that
 * opened it, when it was last used and the Tether session bound to it (its automatic
 * session, created by the first {@code execute} without a {@code session} handle).
 *
 * <p>An MCP session ends on {@code DELETE /mcp}, when it has been idle (no request) for
 * longer than the idle timeout ({@link #sweep}), and when the server closes; its automatic
 * session ends with it. An ended MCP session's id is remembered for a while, so a request
 * that still carries it is refused ({@code 404}: the client must initialize again) instead of
 * silently getting a fresh, empty automatic session.
 *
 * <p>Thread-safe; every method is quick except those that end Tether sessions.
 */
final class McpSessions {
    private static final Logger LOG = LoggerFactory.getLogger(McpSessions.class);
    /** Why an automatic session ended because its MCP session went away. */
    static final EndReason MCP_SESSION_ENDED = EndReason.of("mcp_session_ended");
    /** How many ended MCP session ids are remembered (the oldest are forgotten first). */
    static final int REMEMBERED_ENDED = 10_000;

    /** What the gate may do with a request that carries an MCP session id. */
    enum Access { UNKNOWN, OWN, FOREIGN, ENDED }

    private static final class Entry {
        final String owner;
        Instant lastUsed;
        String boundSession;

        Entry(String owner, Instant lastUsed) {
            this.owner = owner;
            this.lastUsed = lastUsed;
        }
    }

    private final SessionManager manager;
    private final InstantSource clock;
    private final Duration idleTimeout;
    private final Map<String, Entry> open = new HashMap<>();
    private final Map<String, Boolean> ended = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_ENDED;
        }
    };

    /**
     * @param idleTimeout how long an MCP session may go without a request; {@code null} for
     *     no limit
     */
    McpSessions(SessionManager manager, InstantSource clock, Duration idleTimeout) {
        this.manager = manager;
        this.clock = clock;
        this.idleTimeout = idleTimeout;
    }

    /** Records an MCP session the SDK just opened for {@code owner}. */
    synchronized void opened(String mcpSessionId, String owner) {
        open.put(mcpSessionId, new Entry(owner, clock.instant()));
    }

    /** Whether {@code owner} may use the MCP session; counts as a use when it may. */
    synchronized Access use(String mcpSessionId, String owner) {
        Entry e = open.get(mcpSessionId);
        if (e == null) {
            return ended.containsKey(mcpSessionId) ? Access.ENDED : Access.UNKNOWN;
        }
        if (!e.owner.equals(owner)) {
            return Access.FOREIGN;
        }
        e.lastUsed = clock.instant();
        return Access.OWN;
    }

    /**
     * The MCP session's automatic session: the bound one while it is active, else a new one
     * from {@code create}, bound from now on.
     *
     * @return the session, and the id of the bound session it replaces (which had ended), if any
     * @throws TetherException {@code session_not_found} when the MCP session is not open
     */
    Bound automatic(String mcpSessionId, Supplier<Session> create) {
        Entry e;
        synchronized (this) {
            e = open.get(mcpSessionId);
        }
        if (e == null) {
            throw new TetherException(ErrorCode.SESSION_NOT_FOUND, "the MCP session has ended; initialize a new one");
        }
        synchronized (e) {
            String previous = e.boundSession;
            if (previous != null) {
                Optional<Session> s = manager.find(previous).filter(Session::isActive);
                if (s.isPresent()) {
                    return new Bound(s.get(), null);
                }
            }
            Session created = create.get();
            e.boundSession = created.id();
            return new Bound(created, previous);
        }
    }

    /** An automatic session, and the id of the ended one it replaced ({@code null} if none). */
    record Bound(Session session, String replaced) {
    }

    /** The MCP session's automatic session, if it has one (active or not). */
    synchronized Optional<String> boundSession(String mcpSessionId) {
        Entry e = open.get(mcpSessionId);
        return e == null ? Optional.empty() : Optional.ofNullable(e.boundSession);
    }

    /** Ends the MCP session (the client sent {@code DELETE /mcp}) and its automatic session. */
    void end(String mcpSessionId) {
        Entry e;
        synchronized (this) {
            e = open.remove(mcpSessionId);
            if (e != null) {
                ended.put(mcpSessionId, Boolean.TRUE);
            }
        }
        if (e != null) {
            endBound(e, MCP_SESSION_ENDED);
        }
    }

    /**
     * Ends every MCP session idle for longer than the idle timeout, with its automatic session.
     *
     * @return how many ended
     */
    int sweep() {
        if (idleTimeout == null) {
            return 0;
        }
        Instant cutoff = clock.instant().minus(idleTimeout);
        List<Entry> idle = new ArrayList<>();
        synchronized (this) {
            var it = open.entrySet().iterator();
            while (it.hasNext()) {
                var next = it.next();
                if (next.getValue().lastUsed.isBefore(cutoff)) {
                    it.remove();
                    ended.put(next.getKey(), Boolean.TRUE);
                    idle.add(next.getValue());
                }
            }
        }
        idle.forEach(e -> endBound(e, MCP_SESSION_ENDED));
        return idle.size();
    }

    /** Ends every automatic session, for a server shutting down. */
    void closeAll() {
        List<Entry> all;
        synchronized (this) {
            all = new ArrayList<>(open.values());
            open.keySet().forEach(id -> ended.put(id, Boolean.TRUE));
            open.clear();
        }
        all.forEach(e -> endBound(e, EndReason.SERVER_SHUTDOWN));
    }

    private void endBound(Entry e, EndReason why) {
        String id;
        synchronized (e) {
            id = e.boundSession;
        }
        if (id == null) {
            return;
        }
        try {
            if (manager.find(id).filter(Session::isActive).isPresent()) {
                manager.end(id, why);
            }
        } catch (TetherException ex) {
            // it ended meanwhile (its own idle timeout, a REST DELETE): nothing left to end
            LOG.debug("automatic session {} was already gone: {}", id, ex.toString());
        }
    }
}
