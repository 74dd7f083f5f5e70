package io.tether.session;

import static io.tether.session.SessionManagerTest.assertCode;
import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.WorkerState;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The manager's side of executions: ownership, one-at-a-time, queue bound, worker loss. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExecutionTest {
    private final MutableClock clock = new MutableClock();
    private final EchoRuntime echo = new EchoRuntime();
    private SessionManager manager;

    private SessionManager manager(WorkerLossPolicy policy, int maxQueued) {
        manager = SessionManager.builder().clock(clock).reaperInterval(Duration.ZERO).runtime(echo)
                .workerLossPolicy(policy).maxQueuedExecutions(maxQueued).build().start();
        return manager;
    }

    private SessionManager manager() {
        return manager(WorkerLossPolicy.END_SESSION, 16);
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

    @Test
    void executionRunsInTheSessionsOwnWorkerAndCountsAsAnInteraction() {
        manager();
        Session s = echoSession();
        List<String> streamed = new ArrayList<>();

        ExecutionResult first = manager.execute(s.id(), "x = 1", null, (stream, text) -> streamed.add(text));
        ExecutionResult second = manager.execute(s.id(), "x + 1", null, null);

        assertThat(first.number()).isEqualTo(1);
        assertThat(second.number()).isEqualTo(2);
        assertThat(second.result()).containsEntry("text/plain", "x + 1");
        assertThat(streamed).containsExactly("x = 1");
        assertThat(manager.get(s.id()).interactionCount()).isEqualTo(2);
        assertThat(echo.started).hasSize(1);
    }

    @Test
    void plainSessionsHaveNothingToExecute() {
        manager();
        Session plain = manager.create(SessionSpec.of("alice"));
        assertCode(() -> manager.execute(plain.id(), "1", null, null), ErrorCode.INVALID_REQUEST);
        assertCode(() -> manager.interrupt(plain.id()), ErrorCode.INVALID_REQUEST);
    }

    @Test
    void anUnknownRuntimeIsInvalidAFailingOneUnavailableAndNeitherCreatesAnything() {
        manager();
        assertCode(() -> manager.create(SessionSpec.builder("alice").runtime("cobol").build()),
                ErrorCode.INVALID_REQUEST);
        echo.failStarts = true;
        assertCode(this::echoSession, ErrorCode.RUNTIME_UNAVAILABLE);

        assertThat(manager.stats().active()).isZero();
        assertThat(manager.stats().totalCreated()).isZero();
    }

    @Test
    void executionsOfOneSessionNeverInterleave() throws Exception {
        manager();
        Session s = echoSession();
        Set<Long> numbers = ConcurrentHashMap.newKeySet();

        ConcurrencyTest.onThreads(8, t -> {
            for (int i = 0; i < 50; i++) {
                numbers.add(manager.execute(s.id(), "t" + t, null, null).number());
            }
        });

        assertThat(echo.maxRunning.get()).isEqualTo(1);
        assertThat(numbers).hasSize(400).contains(1L, 400L);
        assertThat(manager.get(s.id()).interactionCount()).isEqualTo(400);
    }

    @Test
    void aFullQueueRefusesTheNextExecution() throws Exception {
        manager(WorkerLossPolicy.END_SESSION, 0);
        Session s = echoSession();
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "wait", null, null));
        echo.awaitWaiting();

        assertThatThrownBy(() -> manager.execute(s.id(), "second", null, null))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED))
                .hasMessageContaining("0 executions waiting");

        echo.release();
        assertThat(running.get(10, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(manager.execute(s.id(), "after", null, null).status()).isEqualTo(ExecutionStatus.OK);
    }

    @Test
    void interruptStopsTheRunningExecutionAndKeepsTheSession() throws Exception {
        manager();
        Session s = echoSession();
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "wait", null, null));
        echo.awaitWaiting();

        manager.interrupt(s.id());

        assertThat(running.get(10, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.INTERRUPTED);
        assertThat(manager.get(s.id()).isActive()).isTrue();
        assertThat(manager.execute(s.id(), "still here", null, null).status()).isEqualTo(ExecutionStatus.OK);
    }

    @Test
    void aCrashedWorkerEndsTheSessionByDefault() {
        manager();
        Session s = echoSession();

        ExecutionResult r = manager.execute(s.id(), "crash", null, null);

        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        Session after = manager.get(s.id());
        assertThat(after.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(after.endReason()).isEqualTo(EndReason.WORKER_CRASHED);
        assertCode(() -> manager.execute(s.id(), "1", null, null), ErrorCode.SESSION_ENDED);
    }

    @Test
    void theRestartPolicyGivesAFreshInterpreterInTheSameSession() {
        manager(WorkerLossPolicy.RESTART, 16);
        Session s = echoSession();

        assertThat(manager.execute(s.id(), "crash", null, null).status()).isEqualTo(ExecutionStatus.CRASHED);

        assertThat(manager.get(s.id()).isActive()).isTrue();
        assertThat(echo.started.get(0).restarts.get()).isEqualTo(1);
        assertThat(manager.execute(s.id(), "again", null, null).status()).isEqualTo(ExecutionStatus.OK);
    }

    @Test
    void aWorkerThatDiesBetweenExecutionsEndsItsSessionWithoutWaitingForAnExecution() {
        manager();
        Session s = echoSession();
        manager.execute(s.id(), "before", null, null);

        echo.started.get(0).die();

        eventually(Duration.ofSeconds(1), "the session ended", () -> !manager.get(s.id()).isActive());
        Session after = manager.get(s.id());
        assertThat(after.status()).isEqualTo(SessionStatus.ERROR);
        assertThat(after.endReason()).isEqualTo(EndReason.WORKER_CRASHED);
        assertThat(echo.started.get(0).restarts.get()).isZero();
    }

    @Test
    void theRestartPolicyGivesAWorkerThatDiesBetweenExecutionsAFreshInterpreter() {
        manager(WorkerLossPolicy.RESTART, 16);
        Session s = echoSession();
        EchoRuntime.EchoWorker worker = echo.started.get(0);

        worker.die();

        eventually(Duration.ofSeconds(1), "the worker restarted", () -> worker.restarts.get() == 1);
        assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
        assertThat(manager.get(s.id()).isActive()).isTrue();
        assertThat(manager.execute(s.id(), "again", null, null).status()).isEqualTo(ExecutionStatus.OK);
        assertThat(worker.restarts.get()).as("one death, one restart").isEqualTo(1);
    }

    @Test
    void aQueuedExecutionsTimeoutCoversItsWaitAndItNeverRunsAfterIt() throws Exception {
        manager();
        Session s = echoSession();
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "wait", null, null));
        echo.awaitWaiting();

        assertThatThrownBy(() -> manager.execute(s.id(), "queued", Duration.ofMillis(100), null))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED))
                .hasMessageContaining("did not start");

        echo.release();
        assertThat(running.get(10, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.OK);
        ExecutionResult after = manager.execute(s.id(), "after", Duration.ofSeconds(30), null);
        assertThat(after.number()).as("the timed-out one took no number").isEqualTo(2);
        assertThat(echo.executed).extracting(r -> r.code()).containsExactly("wait", "after");
        assertThat(echo.executed.get(1).timeout()).as("what is left of the timeout once it got its turn")
                .isPositive().isLessThan(Duration.ofSeconds(30));
        assertThat(manager.get(s.id()).interactionCount()).isEqualTo(2);
    }

    @Test
    void restartOnRequestCountsAsAnInteraction() {
        manager();
        Session s = echoSession();
        Session after = manager.restart(s.id());
        assertThat(after.interactionCount()).isEqualTo(1);
        assertThat(echo.started.get(0).restarts.get()).isEqualTo(1);
        assertThat(manager.execute(s.id(), "first", null, null).number())
                .as("a restart is not an execution").isEqualTo(1);
    }

    @Test
    void aSessionIsNotIdleWhileItExecutes() throws Exception {
        manager();
        Session s = manager.create(SessionSpec.builder("alice").runtime("echo")
                .idleTimeout(Duration.ofMinutes(1)).build());
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "wait", null, null));
        echo.awaitWaiting();
        clock.advance(Duration.ofMinutes(5));

        assertThat(manager.cleanupInactive()).isZero();
        echo.release();
        running.get(10, TimeUnit.SECONDS);

        assertThat(manager.get(s.id()).lastActivityAt()).as("the end of an execution is activity")
                .isEqualTo(clock.instant());
        clock.advance(Duration.ofMinutes(1));
        assertThat(manager.cleanupInactive()).isEqualTo(1);
    }

    @Test
    void endingOrExpiringASessionClosesItsWorkerAndDeletesItsDirectory() {
        manager();
        Session ended = echoSession();
        Session expired = manager.create(SessionSpec.builder("a").runtime("echo")
                .idleTimeout(Duration.ofSeconds(1)).build());
        manager.end(ended.id(), EndReason.MANUAL);
        clock.advance(Duration.ofSeconds(2));
        manager.cleanupInactive();

        assertThat(echo.started).allSatisfy(w -> {
            assertThat(w.state()).isEqualTo(WorkerState.DEAD);
            assertThat(Files.exists(w.workingDirectory())).isFalse();
        });
        assertThat(expired.runtime()).isEqualTo("echo");
    }

    @Test
    void closingTheManagerEndsLiveSessionsClosesWorkersAndTheRuntime() {
        manager();
        Session s = echoSession();
        manager.close();

        assertThat(echo.started.get(0).state()).isEqualTo(WorkerState.DEAD);
        assertThat(echo.closed).isTrue();
        assertThat(s.isActive()).isTrue();
    }

    @Test
    void outputListenerSeesStreamNames() {
        manager();
        Session s = echoSession();
        List<OutputListener.Stream> streams = new ArrayList<>();
        manager.execute(s.id(), "hi", null, (stream, text) -> streams.add(stream));
        assertThat(streams).containsExactly(OutputListener.Stream.STDOUT);
    }

    @Test
    void aRunningExecutionCanBeFetchedByNumberWithItsOutputSoFar() throws Exception {
        manager();
        Session s = echoSession();
        List<Long> started = new ArrayList<>();
        OutputListener listener = new OutputListener() {
            @Override
            public void output(Stream stream, String text) {
            }

            @Override
            public void started(long number) {
                started.add(number);
            }
        };
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "say-wait", null, listener));
        echo.awaitWaiting();

        ExecutionRecord soFar = manager.execution(s.id(), 1).orElseThrow();
        assertThat(started).containsExactly(1L);
        assertThat(soFar.running()).isTrue();
        assertThat(soFar.result().status()).isEqualTo(ExecutionStatus.RUNNING);
        assertThat(soFar.result().stdout()).isEqualTo("said ");
        assertThat(soFar.code()).isEqualTo("say-wait");

        echo.release();
        running.get(10, TimeUnit.SECONDS);
        ExecutionRecord done = manager.execution(s.id(), 1).orElseThrow();
        assertThat(done.running()).isFalse();
        assertThat(done.result().status()).isEqualTo(ExecutionStatus.OK);
        assertThat(done.result().stdout()).isEqualTo("say-wait"); // the worker's own result
        assertThat(done.endedAt()).isNotNull();
        assertThat(manager.execution(s.id(), 2)).isEmpty();
    }

    @Test
    void eachSessionKeepsItsNewestExecutionsAlsoAfterItEnded() {
        manager = SessionManager.builder().clock(clock).reaperInterval(Duration.ZERO).runtime(echo)
                .executionHistory(3).build().start();
        Session s = echoSession();
        for (int i = 1; i <= 5; i++) {
            manager.execute(s.id(), "run " + i, null, null);
        }
        manager.end(s.id(), EndReason.MANUAL);

        assertThat(manager.execution(s.id(), 1)).isEmpty();
        assertThat(manager.execution(s.id(), 2)).isEmpty();
        assertThat(manager.execution(s.id(), 3).orElseThrow().result().stdout()).isEqualTo("run 3");
        assertThat(manager.execution(s.id(), 5).orElseThrow().code()).isEqualTo("run 5");
        assertCode(() -> manager.execution("no-such-session", 1), ErrorCode.SESSION_NOT_FOUND);
    }
}
