package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The manager's side of the CPU-time limit, with in-process workers that report whatever CPU
 * time the test gives them: checked after every execution, while one runs and between
 * executions; past it the session ends {@code cpu_time_exceeded} whatever the worker-loss
 * policy. Real processes: {@code CpuTimeSessionsTest} in tether-runtime.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CpuTimeLimitTest {
    private static final Duration LIMIT = Duration.ofSeconds(2);

    private final EchoRuntime echo = new EchoRuntime();
    private final List<SessionEvent> events = new CopyOnWriteArrayList<>();
    private SessionManager manager;

    private void manager(Duration limit) {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        WorkerLimits limits = new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), d.memoryBytes(), limit,
                d.maxProcesses(), d.maxFileBytes(), 0, d.killGrace());
        manager = SessionManager.builder().reaperInterval(Duration.ZERO).limitCheckInterval(Duration.ZERO)
                .workerOptions(new WorkerOptions(limits)).workerLossPolicy(WorkerLossPolicy.RESTART).runtime(echo)
                .listener(events::add).build().start();
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

    private EchoRuntime.EchoWorker workerOf(int i) {
        return echo.started.get(i);
    }

    @Test
    void anExecutionThatTakesTheSessionPastItsCpuTimeCrashesAndEndsTheSession() {
        manager(LIMIT);
        Session s = echoSession();
        workerOf(0).cpu = Duration.ofMillis(2_010);

        ExecutionResult r = manager.execute(s.id(), "print('done')", null, null);

        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.error().name()).isEqualTo("CpuTimeExceeded");
        assertThat(r.error().value()).isEqualTo("the session's processes used 2.01 s of CPU time, its limit is "
                + "2.00 s; the worker was killed");
        Session ended = manager.get(s.id());
        assertThat(ended.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(ended.endReason()).isEqualTo(EndReason.CPU_TIME_EXCEEDED);
        assertThat(workerOf(0).restarts).as("no fresh worker past the limit, whatever the policy").hasValue(0);
        assertThat(events).filteredOn(SessionEvent.Failed.class::isInstance).singleElement()
                .satisfies(e -> assertThat(((SessionEvent.Failed) e).cause())
                        .isInstanceOfSatisfying(TetherException.class, t -> {
                            assertThat(t.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED);
                            assertThat(t).hasMessageStartingWith("CpuTimeExceeded: the session's processes used 2.01 s");
                        }));
    }

    @Test
    void aSessionAtItsLimitOrWithoutAFigureIsUntouched() {
        manager(LIMIT);
        Session at = echoSession();
        Session unknown = echoSession();
        workerOf(0).cpu = LIMIT;

        assertThat(manager.execute(at.id(), "x", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.execute(unknown.id(), "x", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.checkLimits()).isZero();
        assertThat(manager.get(at.id()).isActive()).isTrue();
        assertThat(manager.get(unknown.id()).isActive()).isTrue();
    }

    @Test
    void theCheckKillsTheWorkerOfARunningExecution() throws Exception {
        manager(LIMIT);
        Session s = echoSession();
        Session other = echoSession();
        CompletableFuture<ExecutionResult> waiting = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "wait", null, null));
        echo.awaitWaiting();
        workerOf(0).cpu = Duration.ofSeconds(1);
        assertThat(manager.checkLimits()).as("still under").isZero();
        workerOf(0).cpu = Duration.ofSeconds(3);

        assertThat(manager.checkLimits()).isEqualTo(1);

        ExecutionResult r = waiting.get(10, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.error().name()).isEqualTo("CpuTimeExceeded");
        assertThat(manager.get(s.id()).endReason()).isEqualTo(EndReason.CPU_TIME_EXCEEDED);
        assertThat(manager.get(other.id()).isActive()).isTrue();
    }

    @Test
    void theCheckEndsASessionBetweenExecutions() {
        manager(LIMIT);
        Session s = echoSession();
        assertThat(manager.execute(s.id(), "x", null, null).status()).isEqualTo(ExecutionStatus.OK);
        workerOf(0).cpu = Duration.ofSeconds(5); // a background thread kept spinning

        assertThat(manager.checkLimits()).isEqualTo(1);

        Session ended = manager.get(s.id());
        assertThat(ended.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(ended.endReason()).isEqualTo(EndReason.CPU_TIME_EXCEEDED);
        assertThat(workerOf(0).state()).isEqualTo(io.tether.runtime.WorkerState.DEAD);
        assertThat(manager.checkLimits()).as("once").isZero();
        assertThatThrownBy(() -> manager.execute(s.id(), "x", null, null)).isInstanceOfSatisfying(
                TetherException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.SESSION_ENDED));
    }

    @Test
    void whatTheWorkerUsedBeforeTheSessionGotItIsNotCharged() {
        manager(LIMIT);
        echo.onStart = w -> w.cpu = Duration.ofSeconds(10); // a JVM that took 10 s of CPU to start
        Session s = echoSession();
        workerOf(0).cpu = Duration.ofMillis(11_500);

        assertThat(manager.execute(s.id(), "x", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.checkLimits()).isZero();
        workerOf(0).cpu = Duration.ofMillis(12_100);
        assertThat(manager.checkLimits()).isEqualTo(1);
        assertThat(manager.get(s.id()).endReason()).isEqualTo(EndReason.CPU_TIME_EXCEEDED);
    }

    @Test
    void aRestartDoesNotRenewTheSessionsCpuTime() {
        manager(LIMIT);
        Session s = echoSession();
        workerOf(0).cpu = Duration.ofMillis(1_500);
        workerOf(0).cpuAfterRestart = Duration.ofMillis(100); // the fresh interpreter's start: not charged
        manager.restart(s.id());
        assertThat(manager.checkLimits()).isZero();

        workerOf(0).cpu = Duration.ofMillis(700); // 1.5 s before, 0.6 s since

        assertThat(manager.checkLimits()).isEqualTo(1);
        assertThat(manager.get(s.id()).endReason()).isEqualTo(EndReason.CPU_TIME_EXCEEDED);
    }

    @Test
    void noLimitChecksNothing() {
        manager(null);
        Session s = echoSession();
        workerOf(0).cpu = Duration.ofHours(1);

        assertThat(manager.execute(s.id(), "x", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.checkLimits()).isZero();
        assertThat(manager.get(s.id()).isActive()).isTrue();
    }
}
