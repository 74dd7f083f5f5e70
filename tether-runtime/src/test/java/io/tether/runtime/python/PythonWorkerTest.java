package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.WorkerState;
import io.tether.runtime.sandbox.HostPids;
import io.tether.runtime.sandbox.Sandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** REPL semantics, output, errors, interrupts and sizes of one live worker. */
class PythonWorkerTest extends PythonRuntimeFixture {
    Worker worker;
    long number;

    @BeforeEach
    void start() {
        worker = runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS));
    }

    @AfterEach
    void close() {
        worker.close();
    }

    ExecutionResult run(String code) {
        return worker.execute(new ExecutionRequest(++number, code, Duration.ofSeconds(20)), OutputListener.NONE);
    }

    ExecutionResult ok(String code) {
        ExecutionResult r = run(code);
        assertThat(r.status()).as("%s → %s", code, r).isEqualTo(ExecutionStatus.OK);
        return r;
    }

    @Test
    void aTrailingExpressionIsTheResultAsAMimeBundle() {
        ExecutionResult r = ok("x = 41\nx + 1");
        assertThat(r.result()).isEqualTo(Map.of("text/plain", "42", "application/json", 42L));
        assertThat(r.number()).isEqualTo(number);
        assertThat(r.error()).isNull();
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void jsonIsAddedOnlyForPlainData() {
        assertThat(ok("{'a': [1, 2.5, None, True], 'b': 'é'}").result()).containsEntry("application/json",
                Map.of("a", java.util.Arrays.asList(1L, 2.5, null, true), "b", "é"));
        assertThat(ok("{1, 2}").result()).isEqualTo(Map.of("text/plain", "{1, 2}"));
        assertThat(ok("float('nan')").result()).isEqualTo(Map.of("text/plain", "nan"));
        assertThat(ok("object()").result()).containsOnlyKeys("text/plain");
        assertThat(ok("'it''s'").result()).isEqualTo(Map.of("text/plain", "'its'", "application/json", "its"));
    }

    @Test
    void noneAndStatementsGiveNoResult() {
        assertThat(ok("None").result()).isEmpty();
        assertThat(ok("y = 1").result()).isEmpty();
        assertThat(ok("print('x')").result()).isEmpty();
    }

    @Test
    void variablesFunctionsClassesAndImportsPersist() {
        ok("import math\nfactor = 3\ndef triple(v):\n    return v * factor\nclass Box:\n    def __init__(self, v):\n"
                + "        self.v = v");
        assertThat(ok("triple(Box(2).v) + math.floor(1.5)").result()).containsEntry("application/json", 7L);
        assertThat(ok("__name__").result()).containsEntry("application/json", "__main__");
    }

    @Test
    void stdoutAndStderrAreSeparated() {
        ExecutionResult r = ok("import sys\nprint('out')\nprint('err', file=sys.stderr)");
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
    }

    @Test
    void outputWrittenAtTheOsLevelIsCapturedAndCannotCorruptTheChannel() {
        // Bytes that look like a frame header and a frame, and invalid UTF-8.
        ExecutionResult r = ok("import os\nos.write(1, b'\\x00\\x00\\x00\\x10{\"t\":\"done\"}raw\\n')\n"
                + "os.system('echo hi; echo there >&2')\nos.write(2, b'\\xff\\n')");
        assertThat(r.stdout()).isEqualTo("\0\0\0\u0010{\"t\":\"done\"}raw\nhi\n");
        assertThat(r.stderr()).isEqualTo("there\n\uFFFD\n");
        assertThat(ok("1 + 1").result()).containsEntry("application/json", 2L);
    }

    @Test
    void childProcessOutputIsCaptured() {
        ExecutionResult r = ok("import subprocess\nsubprocess.run(['sh', '-c', 'echo child'])\nNone");
        assertThat(r.stdout()).isEqualTo("child\n");
    }

    @Test
    void outputStreamsWhileTheCodeRuns() throws Exception {
        CountDownLatch firstChunk = new CountDownLatch(1);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<ExecutionResult> result = CompletableFuture.supplyAsync(() -> worker.execute(
                new ExecutionRequest(1, "import time\nfor i in range(5):\n    print(i, flush=True)\n"
                        + "    time.sleep(0.05 if i else 0.5)", Duration.ofSeconds(10)),
                (stream, text) -> {
                    seen.add(text);
                    firstChunk.countDown();
                }));
        assertThat(firstChunk.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(result).isNotDone();
        ExecutionResult r = result.get(10, TimeUnit.SECONDS);
        assertThat(String.join("", seen)).isEqualTo("0\n1\n2\n3\n4\n").isEqualTo(r.stdout());
    }

    @Test
    void aThrowingListenerDoesNotLoseOutput() {
        ExecutionResult r = worker.execute(new ExecutionRequest(1, "print('a', flush=True)\nprint('b')", null),
                (stream, text) -> {
                    throw new IllegalStateException("listener bug");
                });
        assertThat(r.status()).isEqualTo(ExecutionStatus.OK);
        assertThat(r.stdout()).isEqualTo("a\nb\n");
    }

    @Test
    void anExceptionIsAnErrorResultPointingAtTheUsersLines() {
        ok("def fail(v):\n    return 1 / v");
        ExecutionResult r = run("x = 5\nfail(0)");
        assertThat(r.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.error().name()).isEqualTo("ZeroDivisionError");
        assertThat(r.error().value()).isEqualTo("division by zero");
        String traceback = String.join("\n", r.error().traceback());
        assertThat(traceback).contains("File \"<cell-" + number + ">\", line 2, in <module>", "fail(0)",
                "File \"<cell-" + (number - 1) + ">\", line 2, in fail", "return 1 / v")
                .doesNotContain("worker.py", "tether-python-worker");
        assertThat(r.error().traceback().get(r.error().traceback().size() - 1))
                .isEqualTo("ZeroDivisionError: division by zero");
        assertThat(ok("x").result()).containsEntry("application/json", 5L);
    }

    @Test
    void aCellRunAgainReportsItsOwnCellAndLines() {
        String cell = "def fail(v):\n    return 1 / v\nfail(0)";
        ExecutionResult first = run(cell);
        long firstNumber = number;
        ExecutionResult again = run(cell);
        long againNumber = number;
        assertThat(String.join("\n", first.error().traceback())).contains("<cell-" + firstNumber + ">", "return 1 / v");
        assertThat(String.join("\n", again.error().traceback()))
                .contains("File \"<cell-" + againNumber + ">\", line 3, in <module>",
                        "File \"<cell-" + againNumber + ">\", line 2, in fail", "return 1 / v")
                .doesNotContain("<cell-" + firstNumber + ">");
        assertThat(ok("fail.__code__.co_filename").result()).containsEntry("application/json",
                "<cell-" + againNumber + ">");
    }

    @Test
    void aCellThatCompilesWithAWarningShowsItEachTimeItRuns() {
        for (int i = 0; i < 2; i++) {
            ExecutionResult r = ok("x = 1\nx is 1");
            assertThat(r.stderr()).contains("SyntaxWarning", "<cell-" + number + ">");
            assertThat(r.result()).containsEntry("application/json", true);
        }
    }

    @Test
    void aSyntaxErrorIsAnErrorResult() {
        ExecutionResult r = run("a = 1\nb = (");
        assertThat(r.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.error().name()).isEqualTo("SyntaxError");
        assertThat(String.join("\n", r.error().traceback())).contains("<cell-" + number + ">", "line 2");
        assertThat(run("a").status()).as("nothing of the cell ran").isEqualTo(ExecutionStatus.ERROR);
    }

    @Test
    void systemExitDoesNotEndTheWorker() {
        assertThat(run("import sys\nsys.exit(3)").error().name()).isEqualTo("SystemExit");
        ok("1");
    }

    @Test
    void interruptStopsABusyLoopQuicklyAndKeepsTheNamespace() throws Exception {
        assertInterrupts("kept = 'yes'", "while True:\n    pass");
    }

    @Test
    void interruptStopsABlockingSleepQuickly() throws Exception {
        assertInterrupts("import time\nkept = 'yes'", "time.sleep(1000)");
    }

    private void assertInterrupts(String setup, String blocking) throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<ExecutionResult> result = CompletableFuture.supplyAsync(() -> worker.execute(
                new ExecutionRequest(1, setup + "\nprint('started', flush=True)\n" + blocking, null),
                (stream, text) -> running.countDown()));
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(worker.state()).isEqualTo(WorkerState.BUSY);
        assertThat(worker.isHealthy()).isTrue();
        long start = System.nanoTime();
        worker.interrupt();
        ExecutionResult r = result.get(5, TimeUnit.SECONDS);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(r.status()).isEqualTo(ExecutionStatus.INTERRUPTED);
        assertThat(r.error().name()).isEqualTo("KeyboardInterrupt");
        // Far below what the code would take uninterrupted; not a speed figure (a busy CI
        // machine took 225 ms once), which the benchmarks give.
        assertThat(elapsedMs).isLessThan(2_000);
        assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
        assertThat(ok("kept").result()).containsEntry("application/json", "yes");
    }

    @Test
    void theOutputSoFarOfARunningExecutionIsWhatItsResultKeeps() throws Exception {
        CountDownLatch printed = new CountDownLatch(1);
        CompletableFuture<ExecutionResult> result = CompletableFuture.supplyAsync(() -> worker.execute(
                new ExecutionRequest(7, "import sys, time\nprint('so far', flush=True)\n"
                        + "print('warn', file=sys.stderr, flush=True)\ntime.sleep(1000)", null),
                (stream, text) -> {
                    if (stream == OutputListener.Stream.STDERR) {
                        printed.countDown();
                    }
                }));
        assertThat(printed.await(5, TimeUnit.SECONDS)).isTrue();

        assertThat(worker.outputSoFar(7)).isEqualTo(new ExecutionOutput("so far\n", "warn\n", false, List.of(
                new Output.StreamText(OutputListener.Stream.STDOUT, "so far\n"),
                new Output.StreamText(OutputListener.Stream.STDERR, "warn\n"))));
        assertThat(worker.outputSoFar(6)).as("another execution").isNull();
        worker.interrupt();
        ExecutionResult r = result.get(5, TimeUnit.SECONDS);
        assertThat(r.stdout()).isEqualTo("so far\n");
        assertThat(worker.outputSoFar(7)).as("ended").isNull();
    }

    @Test
    void anInterruptWhileIdleDoesNotHitTheNextExecution() {
        worker.interrupt();
        ok("x = 1");
        worker.interrupt();
        worker.interrupt();
        assertThat(ok("import time\ntime.sleep(0.2)\nx + 1").result()).containsEntry("application/json", 2L);
    }

    @Test
    void anInterruptForAnExecutionNotYetSentStopsItAsItIsSentAndNoOtherOne() {
        ok("kept = 'yes'");
        worker.interrupt(number + 1); // the caller was told it started; the worker has not sent it yet
        ExecutionResult r = run("while True:\n    pass");
        assertThat(r.status()).as("interrupted as it was sent, not run to its 20 s timeout: %s", r)
                .isEqualTo(ExecutionStatus.INTERRUPTED);
        worker.interrupt(number + 5); // for an execution that is not the next one
        worker.interrupt(number);     // for one that is over
        assertThat(ok("import time\ntime.sleep(0.2)\nkept").result()).containsEntry("text/plain", "'yes'");
    }

    @Test
    void aTimeoutInterruptsAndKeepsTheWorker() {
        ok("n = 0");
        long start = System.nanoTime();
        ExecutionResult r = worker.execute(new ExecutionRequest(2, "while True:\n    n += 1",
                Duration.ofMillis(300)), OutputListener.NONE);
        assertThat(r.status()).isEqualTo(ExecutionStatus.TIMEOUT);
        assertThat(r.duration()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(2));
        assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
        assertThat((Long) ok("n").result().get("application/json")).isPositive();
    }

    @Test
    void aTimeoutThatPassesBeforeTheCodeStartsStillInterruptsIt() {
        for (int i = 0; i < 20; i++) {
            ExecutionResult r = worker.execute(new ExecutionRequest(++number, "while True:\n    pass",
                    Duration.ofNanos(1)), OutputListener.NONE);
            assertThat(r.status()).isEqualTo(ExecutionStatus.TIMEOUT);
            assertThat(r.error().name()).as("interrupted, not killed").isEqualTo("KeyboardInterrupt");
            assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
        }
        assertThat(ok("1 + 1").result()).containsEntry("application/json", 2L);
    }

    @Test
    void outputBeyondTheCapIsDroppedAndFlagged() {
        worker.close();
        worker = runtime.start(new WorkerOptions(limits(1000, 1 << 20, 0)));
        ExecutionResult r = run("print('a' * 5000)\nimport sys\nsys.stderr.write('b' * 10)\n'c' * 5000");
        assertThat(r.status()).isEqualTo(ExecutionStatus.OK);
        assertThat(r.truncated()).isTrue();
        assertThat(r.stdout()).hasSize(1000).matches("a+");
        assertThat(r.stderr()).isEqualTo("b".repeat(10));
        assertThat((String) r.result().get("text/plain")).hasSize(1000);
        assertThat(ok("print('small')").truncated()).isFalse();
    }

    @Test
    void aHugeErrorMessageIsCappedLikeOutputAndTheWorkerLivesOn() {
        long cap = WorkerLimits.DEFAULTS.maxOutputBytes();
        for (int mib : new int[] {8, 16}) {
            ExecutionResult r = run("x = " + mib + "\nraise ValueError('e' * (" + mib + " * 2**20))");
            assertThat(r.status()).as("%d MiB", mib).isEqualTo(ExecutionStatus.ERROR);
            assertThat(r.truncated()).isTrue();
            assertThat(r.error().name()).isEqualTo("ValueError");
            assertThat(r.error().value()).hasSize((int) cap).matches("e+");
            assertThat(String.join("\n", r.error().traceback()).length()).isLessThanOrEqualTo((int) cap);
            assertThat(r.error().traceback().get(0)).isEqualTo("Traceback (most recent call last):");
            assertThat(ok("x").result()).containsEntry("application/json", (long) mib);
        }
        ExecutionResult small = run("raise ValueError('small')");
        assertThat(small.truncated()).isFalse();
        assertThat(small.error().value()).isEqualTo("small");
    }

    @Test
    void aCellThatClosesOrReplacesItsOwnOutputEndsNormally() {
        for (String cell : List.of("os.close(1)", "os.close(2)", "os.dup2(os.open(os.devnull, os.O_WRONLY), 1)",
                "os.dup2(os.open(os.devnull, os.O_WRONLY), 2)")) {
            worker.close();
            worker = runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS));
            ExecutionResult r = worker.execute(new ExecutionRequest(++number, "import os, sys\nprint('before', flush=True)\n"
                    + "sys.stderr.write('err before\\n'); sys.stderr.flush()\n" + cell + "\n'done'",
                    Duration.ofSeconds(5)), OutputListener.NONE);
            assertThat(r.status()).as(cell).isEqualTo(ExecutionStatus.OK);
            assertThat(r.stdout()).as(cell).isEqualTo("before\n");
            assertThat(r.stderr()).as(cell).isEqualTo("err before\n");
            assertThat(r.result()).as(cell).containsEntry("application/json", "done");
            int untouched = cell.endsWith("1)") ? 2 : 1;
            ExecutionResult next = ok("os.write(" + untouched + ", b'next\\n')\n1 + 1");
            assertThat(next.result()).as(cell).containsEntry("application/json", 2L);
            assertThat(untouched == 1 ? next.stdout() : next.stderr()).as(cell).isEqualTo("next\n");
            assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
        }
    }

    @Test
    void codeLargerThanTheLimitIsRefusedWithoutRunning() {
        worker.close();
        worker = runtime.start(new WorkerOptions(limits(1 << 20, 100, 0)));
        String code = "x = 1  # " + "é".repeat(50); // 109 bytes, 59 chars
        assertThatThrownBy(() -> run(code)).isInstanceOf(TetherException.class)
                .extracting(e -> ((TetherException) e).code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
        assertThatThrownBy(() -> run("#".repeat(101))).isInstanceOf(TetherException.class);
        assertThat(run("x").error().name()).isEqualTo("NameError");
        assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
    }

    @Test
    void itRunsInItsOwnWorkingDirectoryAndImportsModulesFromIt() throws Exception {
        Path own = worker.workingDirectory();
        assertThat(own.getParent()).isEqualTo(dir);
        Files.writeString(own.resolve("helper.py"), "VALUE = 'from helper'\n");
        Path seen = runtime.sandbox().has(Sandbox.Layer.JAIL) ? runtime.sandbox().inJail(own) : own.toRealPath();
        assertThat(ok("import os\nos.getcwd()").result()).containsEntry("application/json", seen.toString());
        assertThat(ok("import helper\nhelper.VALUE").result()).containsEntry("application/json", "from helper");
        assertThat(own.resolve("__pycache__")).doesNotExist();
        worker.restart();
        assertThat(ok("import os\nos.getcwd()").result()).as("kept across restart")
                .containsEntry("application/json", seen.toString());
        worker.close();
        assertThat(own).as("deleted with the worker").doesNotExist();
    }

    @Test
    void inputReadsEndOfFile() {
        assertThat(run("input()").error().name()).isEqualTo("EOFError");
    }

    @Test
    void workersDoNotSeeEachOthersVariables() {
        ok("secret = 1");
        try (Worker other = runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS))) {
            ExecutionResult r = other.execute(new ExecutionRequest(1, "secret", null), OutputListener.NONE);
            assertThat(r.error().name()).isEqualTo("NameError");
            assertThat(other.pid()).isNotEqualTo(worker.pid());
        }
    }

    @Test
    void reportsItsState() {
        assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
        assertThat(worker.isHealthy()).isTrue();
        assertThat(worker.pid()).isPositive();
        long inside = (Long) ok("import os\nos.getpid()").result().get("application/json");
        long host = HostPids.of(worker.pid(), inside);
        if (runtime.sandbox().has(Sandbox.Layer.SESSION_NAMESPACES)) {
            // The interpreter runs under its session's init, whose pid is the worker's for the JVM.
            assertThat(ProcessHandle.of(worker.pid()).orElseThrow().descendants().map(ProcessHandle::pid))
                    .contains(host);
        } else {
            assertThat(host).isEqualTo(worker.pid());
        }
    }

    static WorkerLimits limits(long maxOutput, int maxCode, long memory) {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        return new WorkerLimits(maxOutput, maxCode, memory, d.cpuTime(), d.maxProcesses(), d.maxFileBytes(),
                d.diskQuotaBytes(), Duration.ofMillis(500));
    }
}
