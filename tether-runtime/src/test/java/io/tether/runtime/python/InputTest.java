package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.testing.Eventually;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Standard input of a live worker: input(), getpass and sys.stdin read the request's stdin
 * text, then ask the listener (interactive executions) or read end-of-file; interrupts and
 * timeouts end a wait for input.
 */
class InputTest extends PythonRuntimeFixture {
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

    /** Hears output and input requests, in order, and accepts input. */
    static final class Asking implements OutputListener {
        final List<String> heard = new CopyOnWriteArrayList<>();
        final BlockingQueue<String> requests = new LinkedBlockingQueue<>();

        @Override
        public void output(Stream stream, String text) {
            heard.add(stream + ":" + text);
        }

        @Override
        public boolean acceptsInput() {
            return true;
        }

        @Override
        public void inputRequested(String prompt, boolean password) {
            heard.add("input:" + prompt + ":" + password);
            requests.add(prompt + (password ? " (password)" : ""));
        }

        String nextRequest() throws InterruptedException {
            String r = requests.poll(30, TimeUnit.SECONDS);
            assertThat(r).as("an input request").isNotNull();
            return r;
        }
    }

    CompletableFuture<ExecutionResult> run(String code, Duration timeout, OutputListener listener) {
        long n = ++number;
        return CompletableFuture.supplyAsync(() -> worker.execute(
                new ExecutionRequest(n, code, timeout, null, listener.acceptsInput()), listener));
    }

    ExecutionResult withStdin(String code, String stdin) {
        return worker.execute(new ExecutionRequest(++number, code, Duration.ofSeconds(30), stdin, false),
                OutputListener.NONE);
    }

    @Test
    void inputAsksTheListenerAndReadsItsAnswer() throws Exception {
        Asking listener = new Asking();
        var result = run("print('before')\nname = input('name? ')\nprint('hello', name)\nname",
                Duration.ofSeconds(30), listener);
        assertThat(listener.nextRequest()).isEqualTo("name? ");
        assertThat(listener.heard).containsExactly("STDOUT:before\n", "input:name? :false");
        assertThat(worker.answerInput("Ada")).isTrue();
        assertThat(worker.answerInput("again")).as("answered already").isFalse();
        ExecutionResult r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.status()).as("%s", r).isEqualTo(ExecutionStatus.OK);
        assertThat(r.stdout()).isEqualTo("before\nhello Ada\n");
        assertThat(r.result()).containsEntry("text/plain", "'Ada'");
    }

    @Test
    void getpassIsFlaggedPasswordAndSysStdinAsksToo() throws Exception {
        Asking listener = new Asking();
        var result = run("import getpass, sys\nsecret = getpass.getpass()\nline = sys.stdin.readline()\n"
                + "(secret, line)", Duration.ofSeconds(30), listener);
        assertThat(listener.nextRequest()).isEqualTo("Password:  (password)");
        assertThat(worker.answerInput("s3cret")).isTrue();
        assertThat(listener.nextRequest()).isEqualTo("");
        assertThat(worker.answerInput("more")).isTrue();
        ExecutionResult r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.result()).as("%s", r).containsEntry("text/plain", "('s3cret', 'more\\n')");
        assertThat(r.stdout()).as("the secret is not echoed").isEmpty();
    }

    @Test
    void nothingWaitsForInputWhenIdleOrRunningWithoutAsking() throws Exception {
        assertThat(worker.answerInput("x")).isFalse();
        Asking listener = new Asking();
        var result = run("import time\nprint('go', flush=True)\ntime.sleep(30)", Duration.ofSeconds(30), listener);
        Eventually.eventually(Duration.ofSeconds(30), "the code runs", () -> listener.heard.contains("STDOUT:go\n"));
        assertThat(worker.answerInput("x")).as("it runs but does not read input").isFalse();
        worker.interrupt();
        assertThat(result.get(30, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.INTERRUPTED);
    }

    @Test
    void stdinTextIsReadLineByLineThenEndOfFile() {
        ExecutionResult r = withStdin("a = input('first? ')\nb = input()\nrest = __import__('sys').stdin.read()\n"
                + "print(repr(a), repr(b), repr(rest))", "one\ntwo\nthree\nfour");
        assertThat(r.status()).as("%s", r).isEqualTo(ExecutionStatus.OK);
        assertThat(r.stdout()).isEqualTo("first? 'one' 'two' 'three\\nfour'\n");

        ExecutionResult past = withStdin("input()\ninput()", "only\n");
        assertThat(past.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(past.error().name()).isEqualTo("EOFError");
        assertThat(withStdin("[l for l in __import__('sys').stdin]", "x\ny\n").result())
                .containsEntry("text/plain", "['x\\n', 'y\\n']");
    }

    @Test
    void withoutStdinInputRaisesEofErrorSayingHowToGiveInput() {
        ExecutionResult r = withStdin("input('name? ')", null);
        assertThat(r.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.error().name()).isEqualTo("EOFError");
        assertThat(r.error().value()).contains("\"stdin\"").contains("stream the execution")
                .contains("POST /v1/sessions/{id}/input");
        assertThat(withStdin("import getpass\ngetpass.getpass()", null).error().name()).isEqualTo("EOFError");
        assertThat(withStdin("__import__('sys').stdin.readline()", null).result()).containsEntry("text/plain", "''");
    }

    @Test
    void anInterruptEndsTheWaitAndTheWorkerGoesOn() throws Exception {
        Asking listener = new Asking();
        var result = run("x = 1\ninput('wait: ')", Duration.ofSeconds(60), listener);
        listener.nextRequest();
        worker.interrupt();
        ExecutionResult r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(ExecutionStatus.INTERRUPTED);
        assertThat(worker.answerInput("late")).isFalse();
        assertThat(withStdin("x + 1", null).result()).containsEntry("text/plain", "2");
    }

    @Test
    void theTimeoutRunsWhileItWaits() throws Exception {
        Asking listener = new Asking();
        long start = System.nanoTime();
        var result = run("input('never answered: ')", Duration.ofMillis(700), listener);
        listener.nextRequest();
        ExecutionResult r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(ExecutionStatus.TIMEOUT);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(withStdin("'alive'", null).result()).containsEntry("text/plain", "'alive'");
    }
}
