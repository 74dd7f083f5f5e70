package io.tether.session;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The manager's Micrometer meters. Names (Prometheus turns dots into underscores):
 * <ul>
 *   <li>{@code tether.sessions.created} counter, tag {@code runtime}</li>
 *   <li>{@code tether.sessions.creation} timer: time to create and store a session</li>
 *   <li>{@code tether.sessions.active} gauge</li>
 *   <li>{@code tether.sessions.ended} counter, tags {@code status}, {@code reason} (an application's
 *       own reasons together as {@code other})</li>
 *   <li>{@code tether.sessions.purged} counter: ended sessions deleted past their retention</li>
 *   <li>{@code tether.resources.registered} counter, tag {@code type}</li>
 *   <li>{@code tether.executions} timer (count and duration), tags {@code runtime}, {@code status}</li>
 *   <li>{@code tether.resources.cleanup.failures} counter</li>
 *   <li>{@code tether.listener.failures} counter</li>
 * </ul>
 */
final class SessionMetrics {
    private final MeterRegistry registry;
    private final Timer creation;
    private final Counter cleanupFailures;
    private final Counter listenerFailures;
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Timer>> executionTimers = new ConcurrentHashMap<>();

    SessionMetrics(MeterRegistry registry, Supplier<Number> active) {
        this.registry = registry;
        this.creation = Timer.builder("tether.sessions.creation")
                .description("Time to create and store a session").register(registry);
        this.cleanupFailures = Counter.builder("tether.resources.cleanup.failures")
                .description("Resources that failed or timed out while closing").register(registry);
        this.listenerFailures = Counter.builder("tether.listener.failures")
                .description("Session listeners that threw").register(registry);
        Gauge.builder("tether.sessions.active", active).description("Active sessions").register(registry);
    }

    Timer creation() {
        return creation;
    }

    void created(String runtime) {
        registry.counter("tether.sessions.created", "runtime", runtime).increment();
    }

    void ended(SessionStatus status, EndReason reason) {
        // An application's own reasons are counted together: each would otherwise be a meter for good.
        registry.counter("tether.sessions.ended", "status", status.wireName(),
                "reason", reason.builtIn() ? reason.code() : "other").increment();
    }

    void executed(String runtime, String status, java.time.Duration duration) {
        // On every execution: looked up in two small maps, not built and registered each time
        // (a builder, tags and a registry lookup cost about a microsecond).
        executionTimers.computeIfAbsent(runtime, r -> new ConcurrentHashMap<>())
                .computeIfAbsent(status, st -> Timer.builder("tether.executions")
                        .description("Executions in live sessions, by how they ended")
                        .tags("runtime", runtime, "status", st).register(registry))
                .record(duration);
    }

    void purged(int sessions) {
        registry.counter("tether.sessions.purged").increment(sessions);
    }

    void resourceRegistered(String type) {
        registry.counter("tether.resources.registered", "type", type).increment();
    }

    void cleanupFailed(int failures) {
        cleanupFailures.increment(failures);
    }

    void listenerFailed() {
        listenerFailures.increment();
    }
}
