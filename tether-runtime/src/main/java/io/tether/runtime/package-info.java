/**
 * Runtimes behind live sessions: {@code runtime.python} (a Python interpreter per session,
 * cold-spawned or forked from a pre-warmed server), {@code runtime.jshell}, and
 * {@code runtime.pool} (warm pools in front of any runtime). The SPI they implement,
 * {@link io.tether.runtime.SessionRuntime} and {@link io.tether.runtime.Worker}, lives in
 * tether-core.
 */
package io.tether.runtime;
