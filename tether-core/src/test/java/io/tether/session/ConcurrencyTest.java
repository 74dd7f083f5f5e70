package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.store.InMemorySessionStore;
import io.tether.store.SessionStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Many threads on one manager. Reused by the SQLite store's tests through
 * {@link #runMixedLoad} and {@link #runLimitRace}.
 */
public class ConcurrencyTest {
    static final int THREADS = 16;

    @Test
    void countsAreExactAfterSixteenThreadsCreateTouchUpdateAndEnd() throws Exception {
        runMixedLoad(new InMemorySessionStore(), 200);
    }

    @Test
    void limitsAreNeverExceededWhenManyThreadsCreateAtOnce() throws Exception {
        runLimitRace(new InMemorySessionStore());
    }

    @Test
    void racingGetOrCreateCallersShareOneSession() throws Exception {
        try (SessionManager m = SessionManager.builder().reaperInterval(Duration.ZERO).build().start()) {
            for (int round = 0; round < 20; round++) {
                SessionSpec spec = SessionSpec.builder("alice").key("k" + round).build();
                Set<String> ids = ConcurrentHashMap.newKeySet();
                onThreads(THREADS, t -> ids.add(m.getOrCreate(spec).id()));
                assertThat(ids).hasSize(1);
            }
            assertThat(m.stats().totalCreated()).isEqualTo(20);
        }
    }

    @Test
    void oneOwnerRacingItselfOnOneSessionLosesNoTouch() throws Exception {
        try (SessionManager m = SessionManager.builder().reaperInterval(Duration.ZERO).build().start()) {
            Session s = m.create(SessionSpec.of("alice"));
            onThreads(THREADS, t -> {
                for (int i = 0; i < 1000; i++) {
                    m.touch(s.id());
                    if (i % 100 == 0) {
                        m.update(s.id(), Map.of("t" + t, i), null);
                    }
                }
            });
            Session after = m.get(s.id());
            assertThat(after.interactionCount()).isEqualTo(THREADS * 1010L);
            assertThat(after.version()).isEqualTo(1 + THREADS * 10L);
            assertThat(after.data()).hasSize(THREADS).containsEntry("t0", 900L);
        }
    }

    @Test
    void endRacingTouchesLeavesOneConsistentEnd() throws Exception {
        try (SessionManager m = SessionManager.builder().reaperInterval(Duration.ZERO).build().start()) {
            for (int round = 0; round < 50; round++) {
                Session s = m.create(SessionSpec.of("alice"));
                AtomicInteger ends = new AtomicInteger();
                Set<Session> finals = ConcurrentHashMap.newKeySet();
                onThreads(8, t -> {
                    if (t % 2 == 0) {
                        finals.add(m.end(s.id(), EndReason.MANUAL));
                        ends.incrementAndGet();
                    } else {
                        try {
                            m.touch(s.id());
                        } catch (TetherException e) {
                            assertThat(e.code()).isEqualTo(ErrorCode.SESSION_ENDED);
                        }
                    }
                });
                assertThat(finals).hasSize(1);
                assertThat(finals.iterator().next()).isEqualTo(m.get(s.id()));
            }
            assertThat(m.stats().endedByReason()).containsEntry("manual", 50L);
            assertThat(m.stats().active()).isZero();
        }
    }

    /**
     * Each thread creates {@code perThread} sessions, touches each 3 times, updates each
     * once, and ends every other one. Every count is then checked against the store too.
     */
    public static List<String> runMixedLoad(SessionStore store, int perThread) throws Exception {
        PeakCounter peakSeen = new PeakCounter();
        List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
        try (SessionManager m = SessionManager.builder().store(store).reaperInterval(Duration.ZERO)
                .listener(peakSeen).build().start()) {
            onThreads(THREADS, t -> {
                for (int i = 0; i < perThread; i++) {
                    Session s = m.create(SessionSpec.builder("owner" + (t % 4)).build());
                    ids.add(s.id());
                    for (int k = 0; k < 3; k++) {
                        m.touch(s.id());
                    }
                    m.update(s.id(), Map.of("thread", t, "i", i), null);
                    if (i % 2 == 0) {
                        m.end(s.id(), EndReason.MANUAL);
                    }
                }
            });
            int total = THREADS * perThread;
            SessionStats stats = m.stats();
            assertThat(stats.totalCreated()).isEqualTo(total);
            assertThat(stats.active()).isEqualTo(total / 2);
            assertThat(stats.endedByReason()).isEqualTo(Map.of("manual", (long) total / 2));
            assertThat(stats.activeByOwner().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(total / 2);
            assertThat(stats.peakActive()).isEqualTo(peakSeen.get()).isBetween((long) total / 2, (long) total);
            for (String id : ids) {
                Session s = m.get(id);
                assertThat(s.interactionCount()).isEqualTo(4);
                assertThat(s.version()).isEqualTo(s.isActive() ? 2 : 3);
            }
        }
        return List.copyOf(ids);
    }

    /** 16 threads race to create 4x more sessions than the limits allow. */
    public static void runLimitRace(SessionStore store) throws Exception {
        int maxTotal = 40;
        int maxPerOwner = 12;
        PeakCounter peak = new PeakCounter();
        try (SessionManager m = SessionManager.builder().store(store).reaperInterval(Duration.ZERO)
                .maxSessions(maxTotal).maxSessionsPerOwner(maxPerOwner)
                .listener(peak).build().start()) {
            AtomicInteger refused = new AtomicInteger();
            Map<String, AtomicInteger> perOwner = new ConcurrentHashMap<>();
            onThreads(THREADS, t -> {
                for (int i = 0; i < 10; i++) {
                    String owner = "o" + ((t + i) % 5);
                    try {
                        m.create(SessionSpec.of(owner));
                        perOwner.computeIfAbsent(owner, o -> new AtomicInteger()).incrementAndGet();
                    } catch (TetherException e) {
                        assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
                        refused.incrementAndGet();
                    }
                }
            });
            assertThat(m.stats().active()).isEqualTo(maxTotal);
            assertThat(refused.get()).isEqualTo(THREADS * 10 - maxTotal);
            assertThat(perOwner.values()).allSatisfy(n -> assertThat(n.get()).isLessThanOrEqualTo(maxPerOwner));
            assertThat(peak.get()).isLessThanOrEqualTo(maxTotal);
        }
    }

    /** Counts active sessions from events, as an outside observer would, and their peak. */
    static final class PeakCounter implements SessionListener {
        private final AtomicLong active = new AtomicLong();
        private final AtomicLong peak = new AtomicLong();

        @Override
        public void onEvent(SessionEvent e) {
            if (e instanceof SessionEvent.Created) {
                peak.accumulateAndGet(active.incrementAndGet(), Math::max);
            } else if (!(e instanceof SessionEvent.Touched)) {
                active.decrementAndGet();
            }
        }

        long get() {
            return peak.get();
        }
    }

    public interface ThreadBody {
        void run(int thread) throws Exception;
    }

    /** Runs {@code body} on {@code n} threads released together; rethrows the first failure. */
    public static void onThreads(int n, ThreadBody body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    go.await();
                    body.run(thread);
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
