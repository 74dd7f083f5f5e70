package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.store.InMemorySessionStore;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import io.tether.store.SessionStore;
import io.tether.store.StoreCounts;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The manager never calls its store while it holds a monitor. A store write blocks on the
 * disk (the SQLite store's group commit); on JDK 21 a virtual thread that blocks inside
 * {@code synchronized} keeps its carrier thread, so a few slow commits would stall every
 * request. Locks that never pin (ReentrantLock) are fine; monitors are not.
 *
 * <p>Runs on platform threads, whose held monitors the JVM reports whatever its version.
 */
class StoreOutsideMonitorsTest {

    @Test
    void noStoreCallHappensInsideAMonitor() {
        MutableClock clock = new MutableClock();
        MonitorCheckingStore store = new MonitorCheckingStore();
        SessionManager manager = SessionManager.builder().store(store).clock(clock).reaperInterval(Duration.ZERO)
                .defaultIdleTimeout(Duration.ofMinutes(10)).runtime(new EchoRuntime()).build().start();
        try {
            Session a = manager.create(SessionSpec.builder("alice").runtime("echo").build());
            manager.execute(a.id(), "print('x')", null, null);
            manager.update(a.id(), Map.of("k", 1), null);
            manager.touch(a.id());
            manager.end(a.id(), EndReason.MANUAL);

            Session b = manager.create(SessionSpec.of("bob"));
            clock.advance(Duration.ofMinutes(11));
            assertThat(manager.cleanupInactive()).isEqualTo(1);
            assertThat(manager.get(b.id()).status()).isEqualTo(SessionStatus.TIMEOUT);

            clock.advance(SessionManagerBuilder.DEFAULT_RETENTION.plusMillis(1));
            assertThat(manager.purgeEnded()).isEqualTo(2);

            manager.create(SessionSpec.builder("carol").runtime("echo").build());
        } finally {
            manager.close(); // ends carol's session: server_shutdown
        }
        assertThat(store.calls).as("store calls seen").contains("update", "insert", "recordExecution", "purgeEnded");
        assertThat(store.violations).as("store calls made while holding a monitor").isEmpty();
    }

    /** An in-memory store that notes every call made while the caller holds a monitor. */
    static final class MonitorCheckingStore implements SessionStore {
        final InMemorySessionStore delegate = new InMemorySessionStore();
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<String> violations = new CopyOnWriteArrayList<>();

        private void check(String call) {
            calls.add(call);
            ThreadInfo info = ManagementFactory.getThreadMXBean()
                    .getThreadInfo(new long[] {Thread.currentThread().threadId()}, true, false)[0];
            MonitorInfo[] held = info == null ? new MonitorInfo[0] : info.getLockedMonitors();
            if (held.length > 0) {
                violations.add(call + " holding " + Arrays.stream(held)
                        .map(m -> m.getClassName() + " at " + m.getLockedStackFrame()).toList());
            }
        }

        @Override
        public void insert(Session session) {
            check("insert");
            delegate.insert(session);
        }

        @Override
        public void update(Session session) {
            check("update");
            delegate.update(session);
        }

        @Override
        public void recordActivity(String id, Instant at, long interactionCount) {
            check("recordActivity");
            delegate.recordActivity(id, at, interactionCount);
        }

        @Override
        public void recordExecution(ExecutionRecord execution, int keep) {
            check("recordExecution");
            delegate.recordExecution(execution, keep);
        }

        @Override
        public Optional<ExecutionRecord> findExecution(String sessionId, long number) {
            check("findExecution");
            return delegate.findExecution(sessionId, number);
        }

        @Override
        public List<ExecutionRecord> listExecutions(String sessionId, long before, int limit) {
            check("listExecutions");
            return delegate.listExecutions(sessionId, before, limit);
        }

        @Override
        public Optional<Session> find(String id) {
            check("find");
            return delegate.find(id);
        }

        @Override
        public Page<Session> list(SessionQuery query) {
            check("list");
            return delegate.list(query);
        }

        @Override
        public List<Session> findActive() {
            check("findActive");
            return delegate.findActive();
        }

        @Override
        public int purgeEnded(Instant endedBefore, int max) {
            check("purgeEnded");
            return delegate.purgeEnded(endedBefore, max);
        }

        @Override
        public StoreCounts counts() {
            check("counts");
            return delegate.counts();
        }

        @Override
        public void flush() {
            check("flush");
            delegate.flush();
        }

        @Override
        public void close() {
            check("close");
            delegate.close();
        }
    }
}
