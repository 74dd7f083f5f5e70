package io.tether.runtime.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerState;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.session.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WarmPoolTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final WorkerLimits OTHER_LIMITS = new WorkerLimits(1L << 10, 1 << 10, 0, null, 0, 0, 0,
            Duration.ofSeconds(1));


    private final CatRuntime runtime = new CatRuntime();
    private final List<Worker> handedOut = new ArrayList<>();
    private WarmPool pool;

    @AfterEach
    void cleanUp() {
        runtime.openGate();
        if (pool != null) {
            pool.close();
        }
        handedOut.forEach(Worker::close);
        runtime.killAll();
    }

    private WarmPoolBuilder builder() {
        return WarmPool.builder(runtime);
    }

    private static WorkerOptions sessionOptions() {
        return new WorkerOptions(WorkerLimits.DEFAULTS);
    }

    private Worker acquire() throws IOException {
        return acquire(sessionOptions());
    }

    private Worker acquire(WorkerOptions options) {
        Worker w = pool.start(options);
        synchronized (handedOut) {
            handedOut.add(w);
        }
        return w;
    }

    private static Set<Long> pids(List<? extends Worker> workers) {
        Set<Long> pids = new HashSet<>();
        workers.forEach(w -> pids.add(w.pid()));
        return pids;
    }

    private static String echo(Worker w, String code) {
        return w.execute(new ExecutionRequest(1, code, null), OutputListener.NONE).stdout();
    }

    private static Set<String> poolThreads() {
        Set<String> names = new HashSet<>();
        Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("tether-pool-")).forEach(names::add);
        return names;
    }

    @Test
    void minIdleWorkersArePreStartedAfterBuild() throws Exception {
        pool = builder().minIdle(3).build();

        assertThat(pool.awaitIdle(3, WAIT)).isTrue();
        assertThat(runtime.starts).hasValue(3);
        assertThat(runtime.workers).allMatch(w -> CatRuntime.alive(w.pid()));
        assertThat(pool.stats().idle()).isEqualTo(3);
        assertThat(pool.name()).isEqualTo("cat");
        assertThat(poolThreads()).contains("tether-pool-cat");
    }

    @Test
    void aPoolThatFillsOnFirstUseStartsNothingUntilTheFirstAcquireAndFillsAfterIt() throws Exception {
        pool = builder().minIdle(2).fillOnFirstUse(true).build();
        // The refill thread decides at once whether it wants a worker; once it is parked until
        // its next housekeeping it has decided not to start one.
        Thread refill = poolThread("tether-pool-cat");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (refill.getState() != Thread.State.TIMED_WAITING) {
            assertThat(System.nanoTime()).as("the refill thread parks").isLessThan(deadline);
            Thread.onSpinWait();
        }
        pool.evictExpired();
        assertThat(runtime.starts).hasValue(0);
        assertThat(pool.stats().idle() + pool.stats().starting()).isZero();
        assertThat(pool.awaitIdle(1, Duration.ZERO)).isFalse();

        Worker first = acquire();

        assertThat(first.pid()).isEqualTo(runtime.workers.get(0).pid());
        assertThat(pool.stats().misses()).isEqualTo(1);
        assertThat(pool.awaitIdle(2, WAIT)).isTrue();
        assertThat(runtime.starts).hasValue(3);
        assertThat(pool.stats().hits()).isZero();
        assertThat(acquire().pid()).isNotEqualTo(first.pid());
        assertThat(pool.stats().hits()).isEqualTo(1);
    }

    private static Thread poolThread(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no thread " + name));
    }

    @Test
    void hitIsServedWithoutStartingAWorker() throws Exception {
        pool = builder().minIdle(2).build();
        assertThat(pool.awaitIdle(2, WAIT)).isTrue();
        Set<Long> preStarted = pids(runtime.workers);
        // From here every start the refill makes blocks: a hit cannot come from one.
        runtime.closeGate(CatRuntime::onRefillThread);

        Worker w = acquire();

        assertThat(preStarted).contains(w.pid());
        assertThat(echo(w, "print(1)")).isEqualTo("print(1)");
        WarmPoolStats stats = pool.stats();
        assertThat(stats.hits()).isEqualTo(1);
        assertThat(stats.misses()).isZero();
        assertThat(stats.handedOut()).isEqualTo(1);
    }

    @Test
    void everyWorkerHandedOutRunsInItsOwnDirectoryWhichGoesWithIt() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/cwd")), "needs /proc");
        pool = builder().minIdle(1).build();
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();

        Worker hit = acquire();
        Worker miss = acquire(new WorkerOptions(OTHER_LIMITS));

        assertThat(pool.stats().hits()).isEqualTo(1);
        assertThat(hit.workingDirectory()).isNotEqualTo(miss.workingDirectory());
        for (Worker w : List.of(hit, miss)) {
            assertThat(Path.of("/proc/" + w.pid() + "/cwd").toRealPath()).isEqualTo(w.workingDirectory().toRealPath());
        }
        hit.restart();
        assertThat(Path.of("/proc/" + hit.pid() + "/cwd").toRealPath()).isEqualTo(hit.workingDirectory().toRealPath());
        Path dir = hit.workingDirectory();
        hit.close();
        assertThat(dir).doesNotExist();
    }

    @Test
    void maxWorkersIsNeverExceededBySixteenConcurrentAcquirers() throws Exception {
        pool = builder().minIdle(2).maxWorkers(4).acquireTimeout(WAIT).build();
        assertThat(pool.awaitIdle(2, WAIT)).isTrue();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(16);
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            results.add(threads.submit(() -> {
                go.await();
                int done = 0;
                for (int i = 0; i < 5; i++) {
                    Worker w = acquire();
                    assertThat(pool.stats().total()).isLessThanOrEqualTo(4);
                    if (echo(w, "x").equals("x")) {
                        done++;
                    }
                    w.close();
                }
                return done;
            }));
        }
        go.countDown();
        int done = 0;
        for (Future<Integer> r : results) {
            done += r.get(20, TimeUnit.SECONDS);
        }
        threads.shutdown();

        assertThat(done).isEqualTo(80);
        assertThat(runtime.maxLive.get()).isLessThanOrEqualTo(4);
        WarmPoolStats stats = pool.stats();
        assertThat(stats.hits() + stats.misses()).isEqualTo(80);
        assertThat(stats.waits()).isPositive();
        assertThat(stats.timeouts()).isZero();
    }

    @Test
    void exhaustedPoolFailsWithLimitExceededAfterTheAcquireTimeout() throws Exception {
        pool = builder().minIdle(0).maxWorkers(2).acquireTimeout(Duration.ofMillis(200)).build();
        acquire();
        acquire();

        long began = System.nanoTime();
        assertThatThrownBy(this::acquire).isInstanceOfSatisfying(TetherException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
            assertThat(e.getMessage()).contains("limit of 2 workers").contains("200 ms");
        });
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);

        assertThat(tookMillis).isBetween(195L, 2_000L);
        WarmPoolStats stats = pool.stats();
        assertThat(stats.timeouts()).isEqualTo(1);
        assertThat(stats.waits()).isEqualTo(1);
        assertThat(runtime.starts).hasValue(2);
    }

    @Test
    void workersStillStartingCountAgainstMaxWorkers() throws Exception {
        runtime.closeGate(o -> true);
        pool = builder().minIdle(1).maxWorkers(1).acquireTimeout(Duration.ofMillis(100)).build();
        while (runtime.blockedAtGate.get() == 0) {
            Thread.onSpinWait();
        }

        assertThatThrownBy(this::acquire).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED));

        assertThat(runtime.starts).hasValue(1);
        assertThat(pool.stats().starting()).isEqualTo(1);
        runtime.openGate();
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
        assertThat(acquire().pid()).isEqualTo(runtime.workers.get(0).pid());
    }

    @Test
    void aWaiterGetsTheRoomAClosedWorkerFrees() throws Exception {
        pool = builder().minIdle(0).maxWorkers(1).acquireTimeout(WAIT).build();
        Worker first = acquire();
        ExecutorService thread = Executors.newSingleThreadExecutor();
        Future<Worker> second = thread.submit(() -> acquire());
        while (pool.stats().waits() == 0) {
            Thread.onSpinWait();
        }

        first.close();

        Worker w = second.get(10, TimeUnit.SECONDS);
        thread.shutdown();
        assertThat(w.pid()).isNotEqualTo(first.pid());
        assertThat(runtime.maxLive.get()).isEqualTo(1);
    }

    @Test
    void aWorkerHandedOutIsNeverHandedOutAgain() throws Exception {
        pool = builder().minIdle(2).build();
        List<Worker> got = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            assertThat(pool.awaitIdle(i % 3 == 0 ? 2 : 0, WAIT)).isTrue();
            Worker w = acquire();
            got.add(w);
            if (i % 2 == 0) {
                w.close(); // a closed worker must not come back either
            }
        }

        assertThat(pids(got)).hasSize(30);
        assertThat(pool.stats().hits() + pool.stats().misses()).isEqualTo(30);
        assertThat(pool.stats().handedOut()).isEqualTo(15);
    }

    @Test
    void aFreshIdleWorkerSkipsTheRoundTripCheck() throws Exception {
        MutableClock clock = new MutableClock();
        pool = builder().minIdle(1).clock(clock).build();
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
        runtime.workers.get(0).sick = true; // would fail isHealthy(), but is alive

        Worker w = acquire();

        assertThat(w.pid()).isEqualTo(runtime.workers.get(0).pid());
        assertThat(pool.stats().hits()).isEqualTo(1);
        assertThat(pool.stats().unhealthy()).isZero();
    }

    @Test
    void unhealthyIdleWorkersAreClosedAndReplaced() throws Exception {
        MutableClock clock = new MutableClock();
        pool = builder().minIdle(2).clock(clock).build();
        assertThat(pool.awaitIdle(2, WAIT)).isTrue();
        List<CatRuntime.CatWorker> sick = List.copyOf(runtime.workers);
        sick.forEach(w -> w.sick = true);
        clock.advance(Duration.ofSeconds(2)); // idle long enough to be checked by a round trip
        // Replacements wait, so the acquisition must get past both sick workers itself.
        runtime.closeGate(CatRuntime::onRefillThread);

        Worker w = acquire();

        assertThat(pids(sick)).doesNotContain(w.pid());
        assertThat(sick).noneMatch(s -> CatRuntime.alive(s.pid()));
        WarmPoolStats stats = pool.stats();
        assertThat(stats.unhealthy()).isEqualTo(2);
        assertThat(stats.hits()).isZero();
        assertThat(stats.misses()).isEqualTo(1);
        runtime.openGate();
        assertThat(pool.awaitIdle(2, WAIT)).isTrue();
        assertThat(runtime.workers.stream().filter(c -> CatRuntime.alive(c.pid())).count()).isEqualTo(3);
    }

    @Test
    void idleWorkerThatDiedIsClearedByHousekeeping() throws Exception {
        pool = builder().minIdle(1).build();
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
        CatRuntime.CatWorker dead = runtime.workers.get(0);
        ProcessHandle.of(dead.pid()).orElseThrow().destroyForcibly();
        // Process.isAlive(), which state() reads, can lag the OS handle's exit by a moment
        dead.awaitExit();
        assertThat(dead.state()).isEqualTo(WorkerState.DEAD);

        pool.evictExpired(); // the refill thread may have got there first: the outcome is the same

        assertThat(pool.stats().unhealthy()).isEqualTo(1);
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
        assertThat(acquire().pid()).isNotEqualTo(dead.pid());
    }

    @Test
    void idleWorkersAboveMinIdleAreEvictedAfterTheClockMoves() throws Exception {
        MutableClock clock = new MutableClock();
        pool = builder().minIdle(1).idleEvictionAfter(Duration.ofMinutes(1)).clock(clock).build();
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
        assertThat(pool.prestart(2)).isEqualTo(2);
        assertThat(pool.awaitIdle(3, WAIT)).isTrue();

        // The refill thread also evicts once a second; assert the outcome, not who did it.
        clock.advance(Duration.ofSeconds(59));
        pool.evictExpired();
        assertThat(pool.stats().evicted()).isZero();
        clock.advance(Duration.ofSeconds(1));
        pool.evictExpired();

        assertThat(runtime.workers.stream().filter(w -> CatRuntime.alive(w.pid())).count()).isEqualTo(1);
        WarmPoolStats stats = pool.stats();
        assertThat(stats.idle()).isEqualTo(1);
        assertThat(stats.evicted()).isEqualTo(2);
        clock.advance(Duration.ofHours(1));
        pool.evictExpired();
        assertThat(pool.stats().idle()).isEqualTo(1);
        assertThat(pool.stats().evicted()).isEqualTo(2);
    }

    @Test
    void prestartIsBoundedByMaxWorkers() throws Exception {
        pool = builder().minIdle(2).maxWorkers(3).build();
        assertThat(pool.prestart(5)).isEqualTo(1);
        assertThat(pool.awaitIdle(3, WAIT)).isTrue();
        assertThat(pool.prestart(1)).isZero();
    }

    @Test
    void failingStartsAreCountedAndSurfacedAsRuntimeUnavailable() throws Exception {
        runtime.failing = true;
        pool = builder().minIdle(1).build();
        assertThat(runtime.firstFailure.await(10, TimeUnit.SECONDS)).isTrue();
        // The runtime counts its failure before it throws, the pool after it caught it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.stats().failures() < 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }

        assertThatThrownBy(this::acquire).isInstanceOfSatisfying(TetherException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE);
            assertThat(e.getMessage()).contains("cat could not start a worker").contains("cat refuses to start");
        });
        // The refill keeps retrying, so count what the runtime saw after the pool's snapshot.
        assertThat(pool.stats().failures()).isBetween(2L, (long) runtime.failedStarts.get());
        assertThat(pool.stats().idle()).isZero();
        assertThat(pool.stats().handedOut()).isZero();

        runtime.failing = false;
        Worker w = acquire(); // a success ends the refill's backoff
        assertThat(echo(w, "ok")).isEqualTo("ok");
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
    }

    @Test
    void requestsWithOtherLimitsAreStartedDirectlyAndMayDisplaceAnIdleWorker() throws Exception {
        pool = builder().minIdle(1).maxWorkers(1).acquireTimeout(Duration.ZERO).build();
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
        long idlePid = runtime.workers.get(0).pid();
        Worker w = acquire(new WorkerOptions(OTHER_LIMITS));

        assertThat(w.pid()).isNotEqualTo(idlePid);
        assertThat(CatRuntime.alive(idlePid)).isFalse();
        WarmPoolStats stats = pool.stats();
        assertThat(stats.misses()).isEqualTo(1);
        assertThat(stats.evicted()).isEqualTo(1);
        assertThat(runtime.maxLive.get()).isEqualTo(1);
    }

    @Test
    void statsAreExact() throws Exception {
        pool = builder().minIdle(1).build();
        assertThat(pool.stats().hitRate()).isZero();
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
        runtime.closeGate(CatRuntime::onRefillThread);

        acquire(); // hit; the refill's replacement now blocks
        acquire(); // miss: nothing idle
        acquire(new WorkerOptions(OTHER_LIMITS)); // miss: other limits

        WarmPoolStats stats = pool.stats();
        assertThat(stats.runtime()).isEqualTo("cat");
        assertThat(stats.hits()).isEqualTo(1);
        assertThat(stats.misses()).isEqualTo(2);
        assertThat(stats.hitRate()).isEqualTo(1.0 / 3);
        assertThat(stats.waits()).isZero();
        assertThat(stats.timeouts()).isZero();
        assertThat(stats.failures()).isZero();
        assertThat(stats.idle()).isZero();
        assertThat(stats.starting()).isEqualTo(1);
        assertThat(stats.handedOut()).isEqualTo(3);
        assertThat(stats.spawns()).isEqualTo(3);
        assertThat(stats.spawnLatencyMedian()).isPositive();
        assertThat(stats.spawnLatencyP99()).isGreaterThanOrEqualTo(stats.spawnLatencyMedian());

        runtime.openGate();
        assertThat(pool.awaitIdle(1, WAIT)).isTrue();
        assertThat(pool.stats().starting()).isZero();
        assertThat(pool.stats().spawns()).isEqualTo(4);
    }

    @Test
    void closeKillsIdleAndStartingWorkersButLeavesHandedOutOnesAlone() throws Exception {
        pool = builder().minIdle(2).build();
        assertThat(pool.awaitIdle(2, WAIT)).isTrue();
        Worker kept = acquire();
        assertThat(pool.awaitIdle(2, WAIT)).isTrue();
        runtime.closeGate(CatRuntime::onRefillThread);
        assertThat(pool.prestart(1)).isEqualTo(1);
        while (runtime.blockedAtGate.get() == 0) {
            Thread.onSpinWait();
        }
        Set<Long> idle = pids(runtime.workers);
        idle.remove(kept.pid());

        Thread closer = Thread.ofPlatform().start(pool::close);
        while (!pool.isClosed()) {
            Thread.onSpinWait();
        }
        runtime.openGate(); // the start in flight finishes after close began
        closer.join(TimeUnit.SECONDS.toMillis(10));

        assertThat(closer.isAlive()).isFalse();
        assertThat(idle).hasSize(2).noneMatch(CatRuntime::alive);
        CatRuntime.CatWorker late = runtime.workers.get(runtime.workers.size() - 1);
        assertThat(late.pid()).isNotIn(idle).isNotEqualTo(kept.pid());
        assertThat(CatRuntime.alive(late.pid())).isFalse();
        assertThat(CatRuntime.alive(kept.pid())).isTrue();
        assertThat(echo(kept, "still here")).isEqualTo("still here");
        assertThat(poolThreads()).isEmpty();
        assertThat(runtime.closed).isTrue();

        assertThatThrownBy(this::acquire).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE));
        pool.close(); // idempotent
        kept.close();
        assertThat(pool.stats().handedOut()).isZero();
    }

    @Test
    void steadyAcquisitionAtARateTheRefillSustainsIsAlmostAlwaysAHit() throws Exception {
        pool = builder().minIdle(2).build();
        assertThat(pool.awaitIdle(2, WAIT)).isTrue();

        for (int i = 0; i < 100; i++) {
            acquire().close();
            assertThat(pool.awaitIdle(2, WAIT)).isTrue();
        }

        WarmPoolStats stats = pool.stats();
        assertThat(stats.hits() + stats.misses()).isEqualTo(100);
        assertThat(stats.hitRate()).isGreaterThanOrEqualTo(0.95);
    }

    @Test
    void builderRejectsBadSettings() {
        assertThatThrownBy(() -> WarmPool.builder(runtime).minIdle(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minIdle");
        assertThatThrownBy(() -> WarmPool.builder(runtime).maxWorkers(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxWorkers");
        assertThatThrownBy(() -> WarmPool.builder(runtime).acquireTimeout(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("acquireTimeout");
        assertThatThrownBy(() -> WarmPool.builder(runtime).idleEvictionAfter(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleEvictionAfter");
        assertThatThrownBy(() -> WarmPool.builder(runtime).minIdle(1).minIdle(2))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already set");
        assertThatThrownBy(() -> WarmPool.builder(runtime).minIdle(5).maxWorkers(4).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not exceed maxWorkers");
        assertThat(poolThreads()).isEmpty();
    }
}
