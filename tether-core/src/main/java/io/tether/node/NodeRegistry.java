package io.tether.node;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where the nodes of a cluster keep their leases: the service-provider interface behind node
 * membership and node-loss detection. Every node of a cluster uses the same registry (for
 * PostgreSQL, a table in the shared database; in tests, one {@link InMemoryNodeRegistry}
 * shared by several servers in one JVM).
 *
 * <p>Contract every implementation keeps:
 * <ul>
 *   <li>Instants come from the callers' clocks; the registry compares them and never reads
 *       a clock of its own, so tests move time by hand.</li>
 *   <li>{@link #claim} succeeds for exactly one caller per lapsed lease, however many nodes
 *       race for it: the node-loss work (ending the lost node's sessions) runs once.</li>
 *   <li>{@link #renew} fails once the lease was claimed or released: a node that comes back
 *       after losing its lease learns it from its next heartbeat.</li>
 *   <li>Every change is durable and visible to every node when the method returns.
 *       Methods are thread-safe and throw {@link io.tether.TetherException} with code
 *       {@code store_failure} when storage fails.</li>
 * </ul>
 */
public interface NodeRegistry {

    /**
     * Registers a node, or re-registers one (a restart, or a node that lost its lease),
     * with a lease until {@code leaseExpiresAt}.
     */
    void register(String id, String url, Instant leaseExpiresAt);

    /**
     * Extends a node's lease to {@code leaseExpiresAt}.
     *
     * @return {@code false} when the node holds no lease any more (it was claimed after it
     *     lapsed, or released): the cluster has given up the node's sessions
     */
    boolean renew(String id, Instant leaseExpiresAt);

    /** The registered node {@code id}, its lease live or lapsed, or empty. */
    Optional<NodeInfo> find(String id);

    /** Every registered node, leases live or lapsed. */
    List<NodeInfo> nodes();

    /**
     * Takes the right to end a lost node's sessions: removes node {@code id} if its lease
     * lapsed before {@code now}.
     *
     * @return whether this call removed it; {@code true} for exactly one caller
     */
    boolean claim(String id, Instant now);

    /** Removes a node at once (a clean shutdown); nothing when it is not registered. */
    void release(String id);
}
