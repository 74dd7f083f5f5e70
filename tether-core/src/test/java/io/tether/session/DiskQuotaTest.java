package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manager's side of the disk quota, with in-process workers whose directories the test
 * fills itself: checked after every execution and (on demand here) while one runs; past it
 * the execution crashes and the session ends whatever the worker-loss policy.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DiskQuotaTest {
    private static final long QUOTA = 1L << 20;

    private final EchoRuntime echo = new EchoRuntime();
    private final List<SessionEvent> events = new CopyOnWriteArrayList<>();
    private SessionManager manager;

    private SessionManager manager(long quota, WorkerLossPolicy policy) {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        WorkerLimits limits = new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), d.memoryBytes(), d.cpuTime(),
                d.maxProcesses(), d.maxFileBytes(), quota, d.killGrace());
        manager = SessionManager.builder().reaperInterval(Duration.ZERO).limitCheckInterval(Duration.ZERO)
                .workerOptions(new WorkerOptions(limits)).workerLossPolicy(policy).runtime(echo)
                .listener(events::add).build().start();
        return manager;
    }

    @AfterEach
    void close() {
        if (manager != null) {
            manager.close();
        }
    }

    private Session echoSession() {
        return manager.create(SessionSpec.builder("alice").runtime("echo").build());
    }

    private Path fill(Session s, String file, int bytes) throws IOException {
        Path p = manager.workingDirectory(s.id()).orElseThrow().resolve(file);
        Files.createDirectories(p.getParent());
        return Files.write(p, new byte[bytes]);
    }

    @Test
    void anExecutionThatLeavesTheDirectoryOverTheQuotaCrashesAndEndsTheSessionDespiteTheRestartPolicy()
            throws IOException {
        manager(QUOTA, WorkerLossPolicy.RESTART);
        Session s = echoSession();
        Path dir = manager.workingDirectory(s.id()).orElseThrow();
        fill(s, "a/one.bin", 600_000);
        fill(s, "a/b/two.bin", 600_000);

        ExecutionResult r = manager.execute(s.id(), "print('done')", null, null);

        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.stdout()).as("what it printed is kept").isEqualTo("print('done')");
        assertThat(r.error().name()).isEqualTo("DiskQuotaExceeded");
        assertThat(r.error().value()).startsWith("the session's working directory holds 1.1")
                .contains(" MiB in 2 files, its quota is 1 MiB; the worker was killed");
        Session ended = manager.get(s.id());
        assertThat(ended.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(ended.endReason()).isEqualTo(EndReason.DISK_QUOTA_EXCEEDED);
        assertThat(echo.started.get(0).restarts).as("no fresh worker for a session over its quota").hasValue(0);
        assertThat(Files.exists(dir)).isFalse();
        assertThat(manager.execution(s.id(), 1).orElseThrow().result().error().name()).isEqualTo("DiskQuotaExceeded");
        assertThat(events).filteredOn(SessionEvent.Failed.class::isInstance).singleElement()
                .satisfies(e -> assertThat(((SessionEvent.Failed) e).cause())
                        .isInstanceOfSatisfying(TetherException.class, t -> {
                            assertThat(t.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
                            assertThat(t).hasMessageStartingWith("DiskQuotaExceeded: the session's working directory");
                        }));
    }

    @Test
    void aSessionUnderItsQuotaIsUntouched() throws IOException {
        manager(QUOTA, WorkerLossPolicy.END_SESSION);
        Session s = echoSession();
        fill(s, "a/b/c/data.bin", 900_000);

        assertThat(manager.execute(s.id(), "x", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.execute(s.id(), "y", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.checkLimits()).isZero();
        assertThat(manager.get(s.id()).isActive()).isTrue();
    }

    @Test
    void theDiskCheckKillsTheWorkerOfARunningExecution() throws Exception {
        manager(QUOTA, WorkerLossPolicy.END_SESSION);
        Session s = echoSession();
        Session other = echoSession();
        CompletableFuture<ExecutionResult> waiting = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "say-wait", null, null));
        echo.awaitWaiting();
        assertThat(manager.checkLimits()).as("still under").isZero();
        fill(s, "out/1.bin", 700_000);
        fill(s, "out/2.bin", 700_000);

        assertThat(manager.checkLimits()).isEqualTo(1);
        ExecutionResult r = waiting.get(10, TimeUnit.SECONDS);

        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.error().name()).isEqualTo("DiskQuotaExceeded");
        assertThat(manager.get(s.id()).endReason()).isEqualTo(EndReason.DISK_QUOTA_EXCEEDED);
        assertThat(manager.get(other.id()).isActive()).isTrue();
    }

    @Test
    void theCheckEndsASessionOverItsQuotaBetweenExecutions() throws Exception {
        manager(QUOTA, WorkerLossPolicy.RESTART);
        Session s = echoSession();
        Session other = echoSession();
        Path dir = manager.workingDirectory(s.id()).orElseThrow();
        assertThat(manager.execute(s.id(), "x", null, null).status()).isEqualTo(ExecutionStatus.OK);
        fill(s, "written-by-a-background-thread.bin", 2 << 20);

        assertThat(manager.checkLimits()).isEqualTo(1);

        Session ended = manager.get(s.id());
        assertThat(ended.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(ended.endReason()).isEqualTo(EndReason.DISK_QUOTA_EXCEEDED);
        assertThat(Files.exists(dir)).isFalse();
        assertThat(echo.started.get(0).restarts).hasValue(0);
        assertThat(manager.get(other.id()).isActive()).isTrue();
        assertThat(events).filteredOn(SessionEvent.Failed.class::isInstance).singleElement()
                .satisfies(e -> assertThat(((SessionEvent.Failed) e).cause()).hasMessageStartingWith(
                        "DiskQuotaExceeded: the session's working directory holds 2 MiB in 1 file"));
        assertThatThrownBy(() -> manager.execute(s.id(), "x", null, null)).isInstanceOfSatisfying(
                TetherException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SESSION_ENDED));
    }

    @Test
    void aQuotaOfZeroChecksNothing() throws IOException {
        manager(0, WorkerLossPolicy.END_SESSION);
        Session s = echoSession();
        fill(s, "big.bin", 4 << 20);

        assertThat(manager.execute(s.id(), "x", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.get(s.id()).isActive()).isTrue();
    }

    @Test
    void aCrashStillFollowsTheWorkerLossPolicy() {
        manager(QUOTA, WorkerLossPolicy.RESTART);
        Session s = echoSession();

        assertThat(manager.execute(s.id(), "crash", null, null).status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(manager.get(s.id()).isActive()).isTrue();
        assertThat(echo.started.get(0).restarts).hasValue(1);
    }

    @Test
    void theCheckIntervalIsValidatedAndSetOnce() {
        assertThatThrownBy(() -> SessionManager.builder().limitCheckInterval(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SessionManager.builder().limitCheckInterval(Duration.ZERO)
                .limitCheckInterval(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new WorkerLimits(1, 1, 0, null, 0, 0, -1, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aDirectoryRememberedEmptyIsMeasuredAgainOnceSomethingAppears(@TempDir Path dir) throws IOException {
        // file times an hour old by this clock: the empty directory counts as settled at once
        DiskQuota.Directory disk = new DiskQuota(QUOTA, InstantSource.offset(Clock.systemUTC(),
                Duration.ofHours(1)), DiskQuota.MEASURE_TIMEOUT, System::nanoTime).directory(dir);
        assertThat(disk.check()).isNull();
        assertThat(disk.check()).as("remembered empty").isNull();

        Files.write(dir.resolve("big.bin"), new byte[2 << 20]);

        assertThat(disk.check()).isNotNull().extracting(WorkerDeath::reason).isEqualTo(EndReason.DISK_QUOTA_EXCEEDED);
        Files.delete(dir.resolve("big.bin"));
        assertThat(disk.check()).isNull();
        Files.createDirectories(dir.resolve("a/b"));
        Files.write(dir.resolve("a/b/big.bin"), new byte[2 << 20]);
        assertThat(disk.check()).as("a change under a new subdirectory").isNotNull();
    }

    /**
     * A directory of many entries is measured again only after 20 times its last measurement's
     * duration: checks between trust that measurement, so a session with thousands of files
     * does not pay a walk of all of them after every execution.
     */
    @Test
    void aDirectoryOfManyEntriesIsMeasuredAgainOnlyAfterTwentyTimesItsLastMeasurement(@TempDir Path dir)
            throws IOException {
        for (int i = 0; i <= DiskQuota.SPACED_ENTRIES; i++) {
            Files.createFile(dir.resolve("f" + i));
        }
        // the clock each check reads when it begins and, when it measures, when that ends
        java.util.ArrayDeque<Long> clock = new java.util.ArrayDeque<>(List.of(
                0L, 5_000_000L,          // measured: took 5 ms, so the next not before 100 ms
                99_000_000L,             // trusted
                100_000_000L, 100_100_000L)); // measured again
        DiskQuota.Directory disk = new DiskQuota(QUOTA, InstantSource.system(), DiskQuota.MEASURE_TIMEOUT,
                clock::pop).directory(dir);
        assertThat(disk.check()).isNull();

        Files.write(dir.resolve("big.bin"), new byte[2 << 20]);

        assertThat(disk.check()).as("within 20 x 5 ms of the last measurement").isNull();
        assertThat(disk.check()).as("measured again").isNotNull()
                .extracting(WorkerDeath::reason).isEqualTo(EndReason.DISK_QUOTA_EXCEEDED);
        assertThat(clock).isEmpty();
    }

    @Test
    void aSmallDirectoryIsMeasuredAtEveryCheckHoweverLongThatTook(@TempDir Path dir) throws IOException {
        Files.createFile(dir.resolve("small"));
        java.util.ArrayDeque<Long> clock = new java.util.ArrayDeque<>(List.of(0L, 50_000_000L, 50_000_001L,
                50_000_002L));
        DiskQuota.Directory disk = new DiskQuota(QUOTA, InstantSource.system(), DiskQuota.MEASURE_TIMEOUT,
                clock::pop).directory(dir);
        assertThat(disk.check()).isNull(); // "took" 50 ms, but 2 entries

        Files.write(dir.resolve("big.bin"), new byte[2 << 20]);

        assertThat(disk.check()).isNotNull();
    }

    @Test
    void aDirectoryThatCannotBeMeasuredInTimeCountsAsOverTheQuota(@TempDir Path dir) throws IOException {
        for (int i = 0; i < 5_000; i++) {
            Files.createFile(dir.resolve("f" + i)); // ~10 ms to measure here, against a limit of 1 ms
        }
        DiskQuota.Directory disk = new DiskQuota(QUOTA, InstantSource.system(), Duration.ofMillis(1), System::nanoTime)
                .directory(dir);

        WorkerDeath death = disk.check();

        assertThat(death).isNotNull();
        assertThat(death.reason()).isEqualTo(EndReason.DISK_QUOTA_EXCEEDED);
        assertThat(death.error().value()).isEqualTo("the session's working directory could not be measured within "
                + "1 ms, so its quota of 1 MiB cannot be enforced; the worker was killed");
    }

    @Test
    void sizesReadLikeAPerson() {
        assertThat(DiskQuota.size(300)).isEqualTo("300 bytes");
        assertThat(DiskQuota.size(5L << 20)).isEqualTo("5 MiB");
        assertThat(DiskQuota.size((5L << 20) + (1L << 19))).isEqualTo("5.5 MiB");
        assertThat(DiskQuota.size((long) (1.2 * (1L << 30)))).isEqualTo("1.2 GiB");
    }

    @Test
    void diskRoomIsWhatTheQuotaLeavesForTheCallerOfTheOwnerOnly() throws IOException {
        manager(QUOTA, WorkerLossPolicy.RESTART);
        Session s = echoSession();
        long empty = manager.diskRoom(Access.owner("alice"), s.id());
        assertThat(empty).isBetween(QUOTA - 64 * 1024, QUOTA);
        fill(s, "a/one.bin", 600_000);
        assertThat(manager.diskRoom(Access.owner("alice"), s.id())).isLessThanOrEqualTo(empty - 600_000)
                .isGreaterThan(0);
        fill(s, "two.bin", 600_000);
        assertThat(manager.diskRoom(Access.owner("alice"), s.id())).as("over the quota").isZero();
        assertThatThrownBy(() -> manager.diskRoom(Access.owner("bob"), s.id())).isInstanceOfSatisfying(
                TetherException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SESSION_NOT_FOUND));
    }

    @Test
    void withoutAQuotaTheRoomIsUnlimited() throws IOException {
        manager(0, WorkerLossPolicy.RESTART);
        Session s = echoSession();
        fill(s, "big.bin", 600_000);
        assertThat(manager.diskRoom(Access.owner("alice"), s.id())).isEqualTo(Long.MAX_VALUE);
    }
}
