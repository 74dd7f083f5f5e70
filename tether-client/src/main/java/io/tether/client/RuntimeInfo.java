package io.tether.client;

import java.time.Duration;

/**
 * A runtime the server offers and the warm pool in front of it.
 *
 * @param name {@code python} or {@code jshell}
 * @param pool its warm pool's figures
 */
public record RuntimeInfo(String name, Pool pool) {

    /**
     * A warm pool's figures since the server started.
     *
     * @param idle workers started and waiting
     * @param starting workers being started
     * @param inUse workers owned by sessions
     * @param hits sessions that got a pre-started worker
     * @param misses sessions that waited for a worker to start
     * @param hitRate hits over acquisitions, 0–1
     * @param waits acquisitions that waited at the pool's maximum
     * @param timeouts acquisitions that gave up waiting
     * @param failures workers that failed to start
     * @param spawnMedian median worker start time (recent starts)
     * @param spawnP99 99th percentile worker start time (recent starts)
     */
    public record Pool(long idle, long starting, long inUse, long hits, long misses, double hitRate, long waits,
                       long timeouts, long failures, Duration spawnMedian, Duration spawnP99) {
    }
}
