/**
 * The warm pool: {@link io.tether.runtime.pool.WarmPool} keeps workers of any
 * {@link io.tether.runtime.SessionRuntime} started ahead of demand, bounded by
 * {@code maxWorkers}, and reports hits, misses and waits in
 * {@link io.tether.runtime.pool.WarmPoolStats}. Everything else here is package-private.
 */
package io.tether.runtime.pool;
