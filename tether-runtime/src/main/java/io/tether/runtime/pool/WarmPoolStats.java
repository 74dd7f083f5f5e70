package io.tether.runtime.pool;

import java.time.Duration;

/**
 * A snapshot of one {@link WarmPool}. Counters run from the pool's build; gauges are the
 * values at the moment of the snapshot. The fields are read under one lock, so they agree
 * with each other.
 *
 * @param runtime            the pooled runtime's name
 * @param hits               acquisitions served by a pre-started worker
 * @param misses             acquisitions served by starting a worker on the caller's thread
 *                           (the pool was empty, the request's limits differ from the
 *                           pool's, or its directory could not take a pre-started worker)
 * @param waits              acquisitions that had to wait because {@code maxWorkers} was reached
 * @param timeouts           acquisitions that gave up after the acquire timeout
 *                           ({@code limit_exceeded})
 * @param failures           worker starts that failed, by the refill or on a caller's thread
 * @param unhealthy          idle workers found dead or failing their health check, and closed
 * @param evicted            idle workers closed for being idle too long above {@code minIdle},
 *                           or to make room for a request with other limits at {@code maxWorkers}
 * @param idle               workers started and waiting to be handed out
 * @param starting           workers being started (by the refill or for a miss)
 * @param handedOut          workers handed out and not yet closed by their session
 * @param spawnLatencyMedian median start time of the last 256 successful starts; zero when none
 * @param spawnLatencyP99    99th percentile of the same; zero when none
 * @param spawns             successful starts since the pool was built
 */
public record WarmPoolStats(String runtime, long hits, long misses, long waits, long timeouts, long failures,
                            long unhealthy, long evicted, int idle, int starting, int handedOut,
                            Duration spawnLatencyMedian, Duration spawnLatencyP99, long spawns) {

    /** Hits over hits plus misses; 0 before the first acquisition. */
    public double hitRate() {
        long served = hits + misses;
        return served == 0 ? 0.0 : (double) hits / served;
    }

    /** Everything the pool counts against {@code maxWorkers}: idle, starting and handed out. */
    public int total() {
        return idle + starting + handedOut;
    }
}
