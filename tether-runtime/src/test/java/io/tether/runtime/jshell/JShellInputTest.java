package io.tether.runtime.jshell;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** System.in of a live JShell worker: stdin text, then input requests when the caller answers them. */
class JShellInputTest extends JShellRuntimeFixture {
    private final AtomicLong numbers = new AtomicLong();
    JShellWorker worker;

    @BeforeAll
    void startWorker() {
        worker = (JShellWorker) runtime.start(options(100_000, 10_000, 512L << 20, Duration.ofSeconds(2)));
    }

    @AfterAll
    void closeWorker() {
        worker.close();
    }

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
            heard.add("input");
            requests.add(prompt);
        }

        void awaitRequest() throws InterruptedException {
            assertThat(requests.poll(30, TimeUnit.SECONDS)).as("an input request").isNotNull();
        }
    }

    CompletableFuture<ExecutionResult> asking(String code, Duration timeout, Asking listener) {
        long n = numbers.incrementAndGet();
        return CompletableFuture.supplyAsync(() -> worker.execute(new ExecutionRequest(n, code, timeout, null, true),
                listener));
    }

    ExecutionResult withStdin(String code, String stdin) {
        return worker.execute(new ExecutionRequest(numbers.incrementAndGet(), code, Duration.ofSeconds(30), stdin,
                false), OutputListener.NONE);
    }

    @Test
    void systemInAsksTheCallerLineByLine() throws Exception {
        Asking listener = new Asking();
        var result = asking("""
                var in = new BufferedReader(new InputStreamReader(System.in));
                System.out.print("Name? ");
                String name = in.readLine();
                String next = in.readLine();
                name + "/" + next
                """, Duration.ofSeconds(30), listener);
        listener.awaitRequest();
        assertThat(listener.heard).containsExactly("STDOUT:Name? ", "input");
        assertThat(worker.answerInput("Ada")).isTrue();
        assertThat(worker.answerInput("twice")).isFalse();
        listener.awaitRequest();
        assertThat(worker.answerInput("Lovelace")).isTrue();
        ExecutionResult r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.status()).as("%s", r).isEqualTo(ExecutionStatus.OK);
        assertThat(r.result()).containsEntry("application/json", "Ada/Lovelace");
        assertThat(worker.answerInput("idle")).isFalse();
    }

    @Test
    void stdinTextThenEndOfFile() {
        ExecutionResult r = withStdin("""
                var sc = new Scanner(System.in);
                String all = sc.nextLine() + "+" + sc.nextLine();
                all + " " + sc.hasNextLine()
                """, "one\ntwo\n");
        assertThat(r.result()).as("%s", r).containsEntry("application/json", "one+two false");
        assertThat(withStdin("System.in.read()", null).result()).containsEntry("application/json", -1L);
    }

    @Test
    void anInterruptAndATimeoutEndTheWait() throws Exception {
        Asking listener = new Asking();
        var result = asking("int kept = 7;\nSystem.in.read()", Duration.ofSeconds(60), listener);
        listener.awaitRequest();
        worker.interrupt();
        assertThat(result.get(30, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.INTERRUPTED);

        Asking second = new Asking();
        var timedOut = asking("System.in.read()", Duration.ofMillis(800), second);
        second.awaitRequest();
        assertThat(timedOut.get(30, TimeUnit.SECONDS).status()).isEqualTo(ExecutionStatus.TIMEOUT);
        assertThat(withStdin("kept", null).result()).containsEntry("application/json", 7L);
    }
}
