package io.tether.node;

import java.time.Instant;
import java.util.Objects;

/**
 * One node of a cluster as its registry knows it.
 *
 * @param id             the node's {@code node_id}, unique in the cluster
 * @param url            the base URL other nodes forward requests to ({@code node_url})
 * @param leaseExpiresAt when its lease lapses unless it renews it first
 */
public record NodeInfo(String id, String url, Instant leaseExpiresAt) {
    public NodeInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    }

    /** Whether its lease still holds at {@code now}. */
    public boolean liveAt(Instant now) {
        return now.isBefore(leaseExpiresAt);
    }
}
