package io.tether.server.cluster;

import io.tether.node.NodeRegistry;
import io.tether.store.SessionStore;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

/**
 * What makes a server one node of several: the session store and the node registry it
 * shares with the other nodes, the clock leases are measured with, and how often it renews
 * its lease. {@link io.tether.server.TetherServer#start(io.tether.server.ServerConfig, Cluster)}
 * takes one; a server started without one is a single node, exactly as before.
 *
 * <p>Immutable. The store and registry are shared: each server of the cluster gets its own
 * {@code Cluster} over the same two (a server closes the store it was given; a store shared
 * in one JVM must tolerate that, as {@link io.tether.store.InMemorySessionStore} does).
 *
 * @param store     the sessions every node reads and writes
 * @param registry  the nodes' leases
 * @param clock     the time leases are measured in; the system clock but in tests
 * @param heartbeat how often the lease is renewed; {@code null} for a third of
 *                  {@code node_lease}, at most 3 s; {@link Duration#ZERO} for never on its own (a test calls
 *                  {@link NodeLease#beat()})
 */
public record Cluster(SessionStore store, NodeRegistry registry, InstantSource clock, Duration heartbeat) {
    public Cluster {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(clock, "clock");
        if (heartbeat != null && heartbeat.isNegative()) {
            throw new IllegalArgumentException("heartbeat must be ≥ 0, got " + heartbeat);
        }
    }

    /** A cluster over a shared store and registry, on the system clock, renewing every third of the lease (at most 3 s). */
    public static Cluster of(SessionStore store, NodeRegistry registry) {
        return new Cluster(store, registry, InstantSource.system(), null);
    }
}
