package io.tether.node;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link NodeRegistry} in memory: the registry of a single node, and the one that several
 * servers in one JVM share in tests. Thread-safe; each operation is atomic per node.
 */
public final class InMemoryNodeRegistry implements NodeRegistry {
    private final Map<String, NodeInfo> nodes = new ConcurrentHashMap<>();

    @Override
    public void register(String id, String url, Instant leaseExpiresAt) {
        nodes.put(id, new NodeInfo(id, url, leaseExpiresAt));
    }

    @Override
    public boolean renew(String id, Instant leaseExpiresAt) {
        return nodes.computeIfPresent(id, (k, n) -> new NodeInfo(k, n.url(), leaseExpiresAt)) != null;
    }

    @Override
    public Optional<NodeInfo> find(String id) {
        return Optional.ofNullable(nodes.get(id));
    }

    @Override
    public List<NodeInfo> nodes() {
        return List.copyOf(nodes.values());
    }

    @Override
    public boolean claim(String id, Instant now) {
        NodeInfo n = nodes.get(id);
        return n != null && !n.liveAt(now) && nodes.remove(id, n);
    }

    @Override
    public void release(String id) {
        nodes.remove(id);
    }
}
