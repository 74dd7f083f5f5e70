package io.tether.runtime.jshell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.WorkerState;
import io.tether.testing.Eventually;

/** Behaviour of one live JShell worker; the tests share it where its state does not matter. */
class JShellWorkerTest extends JShellRuntimeFixture {
    private final AtomicLong numbers = new AtomicLong();
    JShellWorker worker;

    @BeforeAll
    void startWorker() {
        worker = (JShellWorker) runtime.start(options(1000, 10_000, 512L << 20, Duration.ofSeconds(2)));
    }

    @AfterAll
    void closeWorker() {
        worker.close();
    }

    ExecutionResult run(String code) {
        return worker.execute(new ExecutionRequest(numbers.incrementAndGet(), code, Duration.ofSeconds(30)),
                OutputListener.NONE);
    }

    @Test
    void completionAndDocumentationSeeTheSnippetsDefinedSoFarWithCursorsInCodePoints() {
        assertThat(run("String greetingText = \"hello\";").status()).isEqualTo(ExecutionStatus.OK);
        String code = "var s = \"𐐨\"; greetingText.toUpp";
        int cursor = code.codePointCount(0, code.length());
        io.tether.runtime.Completion c = worker.complete(code, cursor, Duration.ofSeconds(30));
        assertThat(c.matches()).contains("toUpperCase(");
        assertThat(c.cursorStart()).isEqualTo(cursor - "toUpp".length());
        assertThat(c.cursorEnd()).isEqualTo(cursor);
        assertThat(worker.complete("greetingT", 9, Duration.ofSeconds(30)).matches()).containsExactly("greetingText");
        io.tether.runtime.Inspection i = worker.inspect("greetingText.length(", 20, Duration.ofSeconds(30));
        assertThat(i.found()).isTrue();
        assertThat((String) i.data().get("text/plain")).contains("length()");
        assertThat(worker.inspect("nothingNamedSo", 3, Duration.ofSeconds(30)).found()).isFalse();
    }

    @Test
    void aChildProcessCountsAgainstTheSessionsMemory() {
        // 700 MiB in a child of a JVM whose session may hold 512 MiB in all: in the sandbox's
        // cgroup the kernel kills it (SIGKILL, 128 + 9); without one nothing holds it back.
        ExecutionResult r = run("""
                var p = new ProcessBuilder("/usr/bin/python3", "-c", "b = bytearray(700 << 20); print('held')")
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes()).trim();
                (p.waitFor() + " " + out).trim()
                """);
        assertThat(r.status()).as("%s", r).isEqualTo(ExecutionStatus.OK);
        assertThat(r.result()).containsEntry("application/json",
                sandbox.has(io.tether.runtime.sandbox.Sandbox.Layer.CGROUP) ? "137" : "0 held");
    }

    @Test
    void trailingExpressionIsTheResult() {
        ExecutionResult result = run("int x = 41; x + 1");
        assertThat(result.status()).isEqualTo(ExecutionStatus.OK);
        assertThat(result.result()).containsEntry("text/plain", "42").containsEntry("application/json", 42L);
        assertThat(result.number()).isEqualTo(numbers.get());
    }

    @Test
    void jsonIsGivenForNumbersBooleansAndStrings() {
        assertThat(run("\"a\\tb\\\"é\"").result()).containsEntry("text/plain", "\"a\\tb\\\"é\"")
                .containsEntry("application/json", "a\tb\"é");
        assertThat(run("1.5 * 2").result()).containsEntry("application/json", 3.0);
        assertThat(run("3 > 2").result()).containsEntry("application/json", true);
        assertThat(run("List.of(1, 2)").result()).containsEntry("text/plain", "[1, 2]")
                .doesNotContainKey("application/json");
        assertThat(run("Double.NaN").result()).containsOnlyKeys("text/plain");
    }

    @Test
    void declarationsPersistAcrossExecutions() {
        assertThat(run("""
                import java.time.*;
                int counter = 10;
                String greet(String who) { return "hello " + who; }
                record Point(int x, int y) { int sum() { return x + y; } }
                """).status()).isEqualTo(ExecutionStatus.OK);
        ExecutionResult result = run("counter++; greet(\"bob\") + \" \" + new Point(2, 3).sum() + \" \" + counter"
                + " + \" \" + Duration.ofSeconds(60).toMinutes()");
        assertThat(result.result()).containsEntry("application/json", "hello bob 5 11 1");
    }

    @Test
    void declarationsAndStatementsHaveNoResult() {
        assertThat(run("int unused = 3;").result()).isEmpty();
        assertThat(run("System.out.print(\"\")").result()).isEmpty();
    }

    @Test
    void printedOutputIsCapturedAndStreamedWhileTheCodeRuns() throws Exception {
        CountDownLatch firstLineSeen = new CountDownLatch(1);
        List<String> streamed = new CopyOnWriteArrayList<>();
        long n = numbers.incrementAndGet();
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(() -> worker.execute(
                new ExecutionRequest(n, """
                        System.out.println("first");
                        System.err.println("oops");
                        var gate = new java.io.File("gate");
                        while (!gate.exists()) { Thread.onSpinWait(); }
                        System.out.println("second");
                        """, Duration.ofSeconds(30)),
                (stream, text) -> {
                    streamed.add(stream + ":" + text);
                    if (text.contains("first")) {
                        firstLineSeen.countDown();
                    }
                }));
        // The first line arrives while the code still waits for the gate file.
        assertThat(firstLineSeen.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(running).isNotDone();
        // What a client fetches meanwhile comes from the buffer the result is made of.
        Eventually.eventually(Duration.ofSeconds(10), "stderr so far",
                () -> worker.outputSoFar(n).stderr().equals("oops\n"));
        assertThat(worker.outputSoFar(n).stdout()).isEqualTo("first\n");
        assertThat(worker.outputSoFar(n + 1)).as("not running").isNull();
        java.nio.file.Files.createFile(worker.workingDirectory().resolve("gate"));
        ExecutionResult result = running.get(10, TimeUnit.SECONDS);
        assertThat(worker.outputSoFar(n)).as("ended").isNull();
        assertThat(result.stdout()).isEqualTo("first\nsecond\n");
        assertThat(result.stderr()).isEqualTo("oops\n");
        assertThat(String.join("", streamed)).contains("STDOUT:first\n", "STDERR:oops\n", "second\n");
    }

    @Test
    void workingDirectoryIsTheSessionsDirectory() throws Exception {
        ExecutionResult result = run("new java.io.File(\".\").getCanonicalPath()");
        assertThat(result.result()).containsEntry("application/json",
                seenByTheWorker(worker.workingDirectory()).toString());
    }

    @Test
    void outputOfChildProcessesIsCaptured() throws Exception {
        CountDownLatch childSeen = new CountDownLatch(2);
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(() -> worker.execute(
                new ExecutionRequest(numbers.incrementAndGet(), """
                        new ProcessBuilder("sh", "-c", "echo from-child; echo child-err >&2").inheritIO().start().waitFor();
                        // The child wrote to the JVM's own fd 1 and 2, which the parent drains on its own:
                        // the execution lasts until the parent has seen it.
                        var gate = new java.io.File("child-gate");
                        while (!gate.exists()) { Thread.onSpinWait(); }
                        """, Duration.ofSeconds(30)),
                (stream, text) -> {
                    if (text.contains("from-child") || text.contains("child-err")) {
                        childSeen.countDown();
                    }
                }));
        assertThat(childSeen.await(10, TimeUnit.SECONDS)).isTrue();
        java.nio.file.Files.createFile(worker.workingDirectory().resolve("child-gate"));
        ExecutionResult result = running.get(10, TimeUnit.SECONDS);
        assertThat(result.status()).isEqualTo(ExecutionStatus.OK);
        assertThat(result.stdout()).isEqualTo("from-child\n");
        assertThat(result.stderr()).isEqualTo("child-err\n");
    }

    @Test
    void exceptionBecomesAnErrorWithItsClassMessageAndStack() {
        ExecutionResult result = run("""
                void fail() { throw new IllegalStateException("boom"); }
                System.out.println("before");
                fail();
                System.out.println("never");
                """);
        assertThat(result.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(result.stdout()).isEqualTo("before\n");
        assertThat(result.error().name()).isEqualTo("java.lang.IllegalStateException");
        assertThat(result.error().value()).isEqualTo("boom");
        assertThat(result.error().traceback()).anyMatch(line -> line.contains("fail"));
        assertThat(run("1 / 0").error().name()).isEqualTo("java.lang.ArithmeticException");
    }

    @Test
    void codeThatDoesNotCompileIsACompilationError() {
        ExecutionResult result = run("int ok = 1;\nint broken = undefinedThing + 1;\nint after = 2;");
        assertThat(result.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(result.error().name()).isEqualTo("CompilationError");
        assertThat(result.error().value()).contains("cannot find symbol");
        assertThat(result.error().traceback()).anyMatch(line -> line.contains("undefinedThing"));
        // Snippets before the broken one ran; the ones after it did not.
        assertThat(run("ok").result()).containsEntry("text/plain", "1");
        assertThat(run("after").status()).isEqualTo(ExecutionStatus.ERROR);
    }

    @Test
    void incompleteCodeIsACompilationError() {
        ExecutionResult result = run("void f() {");
        assertThat(result.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(result.error().name()).isEqualTo("CompilationError");
    }

    @Test
    void snippetsSpanLinesAndShareLines() {
        ExecutionResult result = run("""
                int a = 1; int b = 2;
                var sum = java.util.stream.IntStream.of(a, b)
                    .map(i -> i * 10)
                    .sum();
                sum + a
                """);
        assertThat(result.result()).containsEntry("text/plain", "31");
    }

    @Test
    void outputBeyondTheLimitIsCutAndMarked() {
        ExecutionResult result = run("for (int i = 0; i < 500; i++) System.out.println(\"line \" + i);");
        assertThat(result.status()).isEqualTo(ExecutionStatus.OK);
        assertThat(result.truncated()).isTrue();
        assertThat(result.stdout()).startsWith("line 0\n").hasSizeLessThanOrEqualTo(1000);
        assertThat(run("1").truncated()).isFalse();
    }

    @Test
    void aHugeExceptionMessageIsCappedLikeOutputAndTheWorkerLivesOn() {
        run("int keptThroughHugeError = 7;");
        ExecutionResult r = run("throw new IllegalStateException(\"e\".repeat(16 << 20), new RuntimeException(\"f\".repeat(1 << 20)))");
        assertThat(r.status()).as("%s", r.error()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.truncated()).isTrue();
        assertThat(r.error().name()).isEqualTo("java.lang.IllegalStateException");
        assertThat(r.error().value()).hasSize(1000).matches("e+");
        assertThat(String.join("\n", r.error().traceback()).length()).isLessThanOrEqualTo(1000);
        assertThat(run("keptThroughHugeError").result()).containsEntry("application/json", 7L);
        assertThat(run("throw new IllegalStateException(\"small\")").truncated()).isFalse();
    }

    @Test
    void codeLargerThanTheLimitIsRefused() {
        assertThatThrownBy(() -> run("int x = 1;" + " ".repeat(10_000)))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE));
    }

    @Test
    void interruptStopsABusyLoopAndKeepsTheState() throws Exception {
        run("int kept = 7;");
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                () -> run("System.out.println(\"spinning\"); while (true) { }"));
        awaitState(WorkerState.BUSY);
        long started = System.nanoTime();
        worker.interrupt();
        ExecutionResult result = running.get(10, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
        assertThat(result.status()).isEqualTo(ExecutionStatus.INTERRUPTED);
        assertThat(run("kept").result()).containsEntry("text/plain", "7");
        assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
    }

    @Test
    void interruptStopsASleep() throws Exception {
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(() -> run("Thread.sleep(60_000)"));
        awaitState(WorkerState.BUSY);
        worker.interrupt();
        assertThat(running.get(10, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.INTERRUPTED);
    }

    @Test
    void timeoutStopsTheCodeAndKeepsTheWorker() {
        long pid = worker.pid();
        ExecutionResult result = worker.execute(new ExecutionRequest(numbers.incrementAndGet(), "while (true) { }",
                Duration.ofMillis(300)), OutputListener.NONE);
        assertThat(result.status()).isEqualTo(ExecutionStatus.TIMEOUT);
        assertThat(result.duration()).isLessThan(Duration.ofSeconds(2));
        assertThat(worker.pid()).isEqualTo(pid);
        assertThat(run("2 + 2").result()).containsEntry("text/plain", "4");
    }

    @Test
    void healthCheckAnswersWhenIdle() {
        assertThat(worker.isHealthy()).isTrue();
        assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
        assertThat(worker.javaVersion()).isNotBlank();
    }

    /** Waits until the execution started by another thread holds the worker. */
    private void awaitState(WorkerState wanted) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (worker.state() != wanted) {
            assertThat(System.nanoTime()).as("waiting for " + wanted).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }
}
