package io.tether.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResourceTrackerTest {
    private static final Duration GENEROUS = Duration.ofSeconds(5);

    private final List<String> closed = new CopyOnWriteArrayList<>();
    // Not the common pool: it may have a single thread, and some tests block one on purpose.
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private ResourceTracker tracker() {
        return new ResourceTracker("session test", GENEROUS, (type, cost) -> { });
    }

    /** A resource that records its name when closed. */
    private AutoCloseable recording(String name) {
        return () -> closed.add(name);
    }

    /** A resource that records its name, then fails. */
    private AutoCloseable failing(String name) {
        return () -> {
            closed.add(name);
            throw new IOException(name + " refused to close");
        };
    }

    @Test
    void aThrowingRegistrationListenerStillLeavesTheResourceTrackedAndClosedOnce() {
        ResourceTracker tracker = new ResourceTracker("session test", GENEROUS, (type, cost) -> {
            throw new IllegalStateException("metrics broke");
        });
        tracker.register("a", 1, recording("a"));

        assertThat(tracker.stats().count()).isEqualTo(1);
        tracker.close();
        assertThat(closed).containsExactly("a");
    }

    @Test
    void resourcesCloseInReverseRegistrationOrder() {
        ResourceTracker tracker = tracker();
        tracker.register("a", 1, recording("first"));
        tracker.register("b", 1, recording("second"));
        tracker.register("c", 1, recording("third"));

        tracker.close();

        assertThat(closed).containsExactly("third", "second", "first");
        assertThat(tracker.isClosed()).isTrue();
    }

    @Test
    void everyResourceIsAttemptedWhenSomeFailAndTheFailuresAreGathered() {
        ResourceTracker tracker = tracker();
        tracker.register("socket", 1, recording("socket"));
        tracker.register("process", 1, failing("process"));
        tracker.register("file", 1, recording("file"));
        tracker.register("pipe", 1, failing("pipe"));

        ResourceCleanupException e = catchThrowableOfType(ResourceCleanupException.class, tracker::close);

        assertThat(closed).containsExactly("pipe", "file", "process", "socket");
        assertThat(e.failed()).isEqualTo(2);
        assertThat(e.attempted()).isEqualTo(4);
        assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
        assertThat(e.getSuppressed()).hasSize(2);
        assertThat(e.getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("pipe refused to close", "process refused to close");
        assertThat(e.getSuppressed()).allMatch(t -> t instanceof IOException);
        assertThat(e.getMessage())
                .contains("2 of 4", "session test", "pipe", "process")
                .doesNotContain("socket", "file");
    }

    @Test
    void aCloseThatOverrunsTheCleanupTimeoutIsReportedAndTheRestStillClose() throws Exception {
        ResourceTracker tracker = new ResourceTracker("session slow", Duration.ofMillis(100), (type, cost) -> { });
        CountDownLatch neverReleased = new CountDownLatch(1);
        CountDownLatch blockedCloseInterrupted = new CountDownLatch(1);
        tracker.register("early", 1, recording("early"));
        tracker.register("stuck", 1, () -> {
            try {
                neverReleased.await();
            } catch (InterruptedException abandoned) {
                blockedCloseInterrupted.countDown();
            }
        });
        tracker.register("late", 1, recording("late"));

        long start = System.nanoTime();
        ResourceCleanupException e = catchThrowableOfType(ResourceCleanupException.class, tracker::close);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(closed).containsExactly("late", "early");
        assertThat(e.failed()).isEqualTo(1);
        assertThat(e.attempted()).isEqualTo(3);
        assertThat(e.getSuppressed()).singleElement().satisfies(t ->
                assertThat(t).hasMessageContaining("stuck").hasMessageContaining("did not close within 100 ms"));
        assertThat(e.getMessage()).contains("stuck");
        assertThat(took).isLessThan(Duration.ofSeconds(3));
        assertThat(blockedCloseInterrupted.await(5, TimeUnit.SECONDS))
                .as("the abandoned close is interrupted").isTrue();
    }

    @Test
    void aRegisteredTaskIsCancelledWithInterruptionAtClose() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch sawInterrupt = new CountDownLatch(1);
        CountDownLatch neverReleased = new CountDownLatch(1);
        Future<?> task = threads.submit(() -> {
            started.countDown();
            try {
                neverReleased.await();
            } catch (InterruptedException interrupted) {
                sawInterrupt.countDown();
            }
        });
        assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
        ResourceTracker tracker = tracker();
        tracker.registerTask("poller", task);

        tracker.close();

        assertThat(task.isCancelled()).isTrue();
        assertThat(sawInterrupt.await(5, TimeUnit.SECONDS)).as("the task saw the interrupt").isTrue();
    }

    @Test
    void releaseClosesAtOnceAndTheTrackerDoesNotCloseItAgain() throws Exception {
        ResourceTracker tracker = tracker();
        AtomicInteger closes = new AtomicInteger();
        TrackedResource handle = tracker.register("process", 10, closes::incrementAndGet);
        tracker.register("file", 1, recording("file"));

        handle.release();

        assertThat(closes).hasValue(1);
        assertThat(tracker.stats().count()).isEqualTo(1);
        assertThat(tracker.stats().byType()).doesNotContainKey("process");

        handle.release();
        tracker.close();

        assertThat(closes).hasValue(1);
        assertThat(closed).containsExactly("file");
    }

    @Test
    void releaseAfterTheTrackerClosedDoesNothing() throws Exception {
        ResourceTracker tracker = tracker();
        AtomicInteger closes = new AtomicInteger();
        TrackedResource handle = tracker.register("process", 10, closes::incrementAndGet);
        tracker.close();

        handle.release();

        assertThat(closes).hasValue(1);
    }

    @Test
    void aFailingReleaseReportsItsFailureToTheCaller() throws Exception {
        ResourceTracker tracker = tracker();
        TrackedResource handle = tracker.register("process", 1, failing("process"));

        assertThatThrownBy(handle::release).isInstanceOf(IOException.class).hasMessage("process refused to close");
        tracker.close();

        assertThat(closed).containsExactly("process");
    }

    @Test
    void registeringAfterCloseClosesTheResourceAndReportsSessionEnded() {
        ResourceTracker tracker = tracker();
        tracker.close();

        assertThatThrownBy(() -> tracker.register("process", 1, recording("late")))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.SESSION_ENDED))
                .hasMessageContaining("session test")
                .hasMessageContaining("process");
        assertThat(closed).containsExactly("late");
        assertThat(tracker.stats()).isSameAs(ResourceStats.EMPTY);
    }

    @Test
    void registeringATaskAfterCloseCancelsItAndReportsSessionEnded() {
        ResourceTracker tracker = tracker();
        tracker.close();
        CompletableFuture<Void> task = new CompletableFuture<>();

        assertThatThrownBy(() -> tracker.registerTask("poller", task))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.SESSION_ENDED));
        assertThat(task.isCancelled()).isTrue();
    }

    @Test
    void closingTwiceClosesEachResourceOnce() {
        ResourceTracker tracker = tracker();
        tracker.register("a", 1, recording("a"));
        tracker.register("b", 1, recording("b"));

        tracker.close();
        tracker.close();

        assertThat(closed).containsExactly("b", "a");
    }

    @Test
    void aSecondCloseDoesNotRethrowTheFirstClosesFailures() {
        ResourceTracker tracker = tracker();
        tracker.register("a", 1, failing("a"));

        assertThatThrownBy(tracker::close).isInstanceOf(ResourceCleanupException.class);
        assertThatCode(tracker::close).doesNotThrowAnyException();
        assertThat(closed).containsExactly("a");
    }

    @Test
    void statsCountResourcesAndCostsByType() {
        ResourceTracker tracker = tracker();
        tracker.register("process", 100, recording("p1"));
        tracker.register("process", 50, recording("p2"));
        tracker.register("file", 7, recording("f"));
        tracker.registerTask("poller", new CompletableFuture<Void>());

        ResourceStats stats = tracker.stats();

        assertThat(stats.count()).isEqualTo(4);
        assertThat(stats.totalCost()).isEqualTo(157);
        assertThat(stats.byType()).containsOnly(
                Map.entry("process", new ResourceStats.TypeStats(2, 150)),
                Map.entry("file", new ResourceStats.TypeStats(1, 7)),
                Map.entry("poller", new ResourceStats.TypeStats(1, 0)));
    }

    @Test
    void anEmptyOrClosedTrackerReportsTheSharedEmptyStats() {
        ResourceTracker tracker = tracker();
        assertThat(tracker.stats()).isSameAs(ResourceStats.EMPTY);

        tracker.register("process", 100, recording("p"));
        tracker.close();

        assertThat(tracker.stats()).isSameAs(ResourceStats.EMPTY);
        assertThat(ResourceStats.EMPTY.count()).isZero();
        assertThat(ResourceStats.EMPTY.totalCost()).isZero();
        assertThat(ResourceStats.EMPTY.byType()).isEmpty();
    }

    @Test
    void statsAreASnapshotThatLaterRegistrationsDoNotChange() {
        ResourceTracker tracker = tracker();
        tracker.register("process", 1, recording("p"));
        ResourceStats before = tracker.stats();

        tracker.register("process", 1, recording("q"));

        assertThat(before.count()).isEqualTo(1);
        assertThat(before.byType().get("process").count()).isEqualTo(1);
        assertThatThrownBy(() -> before.byType().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void anInvalidTypeOrCostIsRefusedAndNothingIsTracked() {
        ResourceTracker tracker = tracker();
        AutoCloseable resource = recording("r");

        for (String type : new String[] {null, "", "   ", "x".repeat(65)}) {
            assertThatThrownBy(() -> tracker.register(type, 1, resource))
                    .as("type '%s'", type)
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                    .hasMessageContaining("resource type");
        }
        assertThatThrownBy(() -> tracker.registerTask(" ", new CompletableFuture<Void>()))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
        assertThatThrownBy(() -> tracker.register("process", -1, resource))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContaining("cost")
                .hasMessageContaining("-1");

        assertThat(tracker.stats()).isSameAs(ResourceStats.EMPTY);
        tracker.close();
        assertThat(closed).as("a refused resource stays the caller's").isEmpty();
    }

    @Test
    void theLongestAllowedTypeAndAZeroCostAreAccepted() {
        ResourceTracker tracker = tracker();

        TrackedResource handle = tracker.register("x".repeat(64), 0, recording("r"));

        assertThat(handle.type()).hasSize(64);
        assertThat(handle.cost()).isZero();
    }

    @Test
    void aNonPositiveCleanupTimeoutIsRefused() {
        assertThatThrownBy(() -> new ResourceTracker("s", Duration.ZERO, (type, cost) -> { }))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ResourceTracker("s", Duration.ofMillis(-1), (type, cost) -> { }))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRegistrationListenerIsToldOfEachRegistration() {
        List<String> told = new CopyOnWriteArrayList<>();
        ResourceTracker tracker = new ResourceTracker("s", GENEROUS, (type, cost) -> told.add(type + "=" + cost));

        tracker.register("process", 100, recording("p"));
        tracker.register("file", 3, recording("f"));
        tracker.registerTask("poller", new CompletableFuture<Void>());
        tracker.close();
        assertThatThrownBy(() -> tracker.register("late", 1, recording("l"))).isInstanceOf(TetherException.class);

        assertThat(told).containsExactly("process=100", "file=3", "poller=0");
    }

    @Test
    void aDeploymentStuckOnATrackedWorkerDoesNotStopTheTrackerFromClosingIt() throws Exception {
        ResourceTracker tracker = tracker();
        CountDownLatch workerAlive = new CountDownLatch(1);
        CountDownLatch inDeployment = new CountDownLatch(1);
        tracker.register("worker", 1, workerAlive::countDown);
        CompletableFuture<Boolean> deploying = CompletableFuture.supplyAsync(() ->
                tracker.deployedCode().deployIfAbsent("f", "def f(): ...", () -> {
                    inDeployment.countDown();
                    try {
                        workerAlive.await(); // a deployment waits on its worker until the worker goes away
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }), threads);
        try {
            assertThat(inDeployment.await(5, TimeUnit.SECONDS)).isTrue();

            CompletableFuture.runAsync(tracker::close, threads).get(5, TimeUnit.SECONDS);

            assertThat(workerAlive.getCount()).as("the worker was closed").isZero();
        } finally {
            workerAlive.countDown();
        }
        deploying.get(5, TimeUnit.SECONDS);
        assertThat(tracker.deployedCode().isDeployed("f", "def f(): ...")).isFalse();
    }

    @Test
    void closingInvalidatesTheDeployedCodeCache() {
        ResourceTracker tracker = tracker();
        tracker.deployedCode().deployIfAbsent("f", "def f(): pass", () -> { });
        assertThat(tracker.deployedCode().isDeployed("f", "def f(): pass")).isTrue();

        tracker.close();

        assertThat(tracker.deployedCode().size()).isZero();
        assertThat(tracker.deployedCode().isDeployed("f", "def f(): pass")).isFalse();
    }
}
