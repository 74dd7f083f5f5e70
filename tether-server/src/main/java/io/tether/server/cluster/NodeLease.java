package io.tether.server.cluster;

import io.tether.TetherException;
import io.tether.node.NodeInfo;
import io.tether.node.NodeRegistry;
import io.tether.session.NodeTakeover;
import io.tether.session.SessionManager;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's lease in the cluster, and the watch over the other nodes' leases. Each
 * {@link #beat()} renews this node's lease (re-registering when it was lost: the node first
 * lets go of every session the cluster gave up, killing their workers), then claims each
 * other node whose lease lapsed and takes over its sessions ({@link SessionManager#takeOverNode}).
 * A background thread beats every heartbeat interval (a third of the lease, at most 3 s); a
 * lapsed node is therefore found at most one interval after its lease ends.
 *
 * <p>Thread-safe: beats are serialized.
 */
public final class NodeLease implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeLease.class);

    private final String id;
    private final String url;
    private final Duration lease;
    private final NodeRegistry registry;
    private final InstantSource clock;
    private final SessionManager manager;
    private final ReentrantLock beating = new ReentrantLock();
    private volatile Thread heart;
    private volatile boolean closed;

    NodeLease(String id, String url, Duration lease, NodeRegistry registry, InstantSource clock,
              SessionManager manager) {
        this.id = id;
        this.url = url;
        this.lease = lease;
        this.registry = registry;
        this.clock = clock;
        this.manager = manager;
    }

    /**
     * Registers this node and starts its heartbeat.
     *
     * @param heartbeat the interval; zero for none (beats only when {@link #beat()} is called)
     */
    public static NodeLease join(String id, String url, Duration lease, Cluster cluster, SessionManager manager) {
        NodeLease n = new NodeLease(id, url, lease, cluster.registry(), cluster.clock(), manager);
        n.registry.register(id, url, n.clock.instant().plus(lease));
        Duration every = cluster.heartbeat() != null ? cluster.heartbeat() : heartbeat(lease);
        if (!every.isZero()) {
            n.heart = Thread.ofPlatform().daemon().name("tether-node-lease").start(() -> n.run(every));
        }
        LOG.info("node {} joined the cluster at {} (lease {})", id, url, lease);
        return n;
    }

    /**
     * The default heartbeat: a third of the lease (two renewals may fail before it lapses),
     * at most 3 s, so another node finds a lapsed lease within the lease + 5 s whatever its length.
     */
    static Duration heartbeat(Duration lease) {
        Duration third = lease.dividedBy(3);
        return third.compareTo(Duration.ofSeconds(3)) < 0 ? third : Duration.ofSeconds(3);
    }

    /** This node's id. */
    public String id() {
        return id;
    }

    /** The URL other nodes forward to. */
    public String url() {
        return url;
    }

    /**
     * Renews this node's lease, then takes over the sessions of every other node whose lease
     * lapsed (claimed once, by whichever node claims first).
     *
     * @throws TetherException {@code store_failure} when the registry or store fails
     */
    public void beat() {
        beating.lock();
        try {
            if (closed) {
                return;
            }
            Instant now = clock.instant();
            if (!registry.renew(id, now.plus(lease))) {
                LOG.warn("node {} had lost its lease: the cluster gave its sessions up; letting them go and "
                        + "joining again", id);
                manager.releaseLost(true);
                registry.register(id, url, clock.instant().plus(lease));
            }
            for (NodeInfo n : registry.nodes()) {
                if (!n.id().equals(id) && !n.liveAt(now)) {
                    takeOver(n.id(), now);
                }
            }
        } finally {
            beating.unlock();
        }
    }

    /** Takes over a lapsed node's sessions if this node wins the claim; whether it did. */
    boolean takeOver(String node, Instant now) {
        if (!registry.claim(node, now)) {
            return false;
        }
        NodeTakeover t = manager.takeOverNode(node);
        LOG.warn("node {} lost its lease: ended {} of its sessions node_lost, took over {} plain ones", node,
                t.ended(), t.adopted());
        return true;
    }

    private void run(Duration every) {
        while (!closed) {
            try {
                Thread.sleep(every);
            } catch (InterruptedException e) {
                return;
            }
            try {
                beat();
            } catch (TetherException e) {
                if (!closed) {
                    LOG.warn("node {}: heartbeat failed: {}", id, e.toString());
                }
            } catch (RuntimeException e) {
                LOG.error("node {}: heartbeat failed", id, e);
            }
        }
    }

    /** Stops the heartbeat; the lease stays until {@link #release()} or it lapses. */
    public void stop() {
        beating.lock();
        try {
            closed = true;
        } finally {
            beating.unlock();
        }
        Thread t = heart;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Gives the lease up at once: a clean shutdown, after this node ended its sessions. */
    public void release() {
        registry.release(id);
        LOG.info("node {} left the cluster", id);
    }

    /** Stops the heartbeat and releases the lease. */
    @Override
    public void close() {
        stop();
        release();
    }
}
