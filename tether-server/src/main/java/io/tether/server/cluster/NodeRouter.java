package io.tether.server.cluster;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.node.NodeInfo;
import io.tether.node.NodeRegistry;
import io.tether.session.Access;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;

/**
 * Decides where a request about a session is answered: here, or at the node that holds the
 * session's live worker. The rule:
 * <ul>
 *   <li>a session the caller may not see, an ended one, one this node holds, and reads of
 *       a plain session ({@code GET}) are answered here, from this node's memory or the
 *       store;</li>
 *   <li>an active session another node holds is forwarded to that node, at most once: a
 *       request that was forwarded already ({@value #FORWARDED_BY} set) and is not this
 *       node's is refused with {@code node_unavailable}, never forwarded again;</li>
 *   <li>a session whose node's lease lapsed, or whose node is gone from the registry, is
 *       taken over first (ended {@code node_lost}, or adopted when plain) and then answered
 *       here: {@code session_ended} for one that ended.</li>
 * </ul>
 * The caller has authenticated the request; visibility is checked here with its access
 * (another owner's session is answered here: {@code session_not_found}), and the owner
 * checks the token again.
 */
public final class NodeRouter {
    /** The header a forwarding node adds: its node id. Its presence is the loop guard. */
    public static final String FORWARDED_BY = "Tether-Forwarded-By";

    private final SessionManager manager;
    private final NodeRegistry registry;
    private final InstantSource clock;
    private final NodeLease lease;

    public NodeRouter(SessionManager manager, NodeRegistry registry, InstantSource clock, NodeLease lease) {
        this.manager = manager;
        this.registry = registry;
        this.clock = clock;
        this.lease = lease;
    }

    /**
     * The base URL to forward a request about session {@code sessionId} to, or empty to
     * answer it here.
     *
     * @param forwardedBy the request's {@value #FORWARDED_BY} header, or {@code null}
     * @throws TetherException {@code node_unavailable} for a forwarded request about a
     *     session another node holds
     */
    public Optional<String> ownerUrl(Access access, String sessionId, String method, String forwardedBy) {
        if (sessionId == null) {
            return Optional.empty();
        }
        Session s = manager.find(access, sessionId).orElse(null);
        if (s == null || !s.isActive() || s.node() == null || s.node().equals(lease.id())
                || (s.isPlain() && method.equals("GET"))) {
            return Optional.empty();
        }
        if (forwardedBy != null) {
            throw new TetherException(ErrorCode.NODE_UNAVAILABLE, "this request was forwarded here by node '"
                    + forwardedBy + "', but session '" + s.id() + "' is held by node '" + s.node()
                    + "', not this one '" + lease.id() + "'; a request is forwarded once only. Retry it");
        }
        Instant now = clock.instant();
        NodeInfo owner = registry.find(s.node()).orElse(null);
        if (owner == null) {
            // its node left without handing it over (it died and its claimer did too): take it now
            manager.takeOverSession(s);
            return Optional.empty();
        }
        if (!owner.liveAt(now)) {
            lease.takeOver(owner.id(), now);
            return Optional.empty();
        }
        return Optional.of(owner.url());
    }
}
