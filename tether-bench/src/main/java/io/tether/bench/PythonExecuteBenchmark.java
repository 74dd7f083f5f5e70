package io.tether.bench;

import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.python.PythonRuntime;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.store.InMemorySessionStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Latency of a trivial execute ({@code x = x + 1}) and of one that prints 100 lines, on one
 * live Python session through the session manager. The floor to compare it with (a bare exec
 * worker over pipes) is measured by {@link RuntimeHarness} in the same run as its own figure;
 * this is the JMH view of the Tether side only.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@State(Scope.Benchmark)
public class PythonExecuteBenchmark {
    private SessionManager manager;
    private String id;

    @Setup(Level.Trial)
    public void open() {
        manager = SessionManager.builder().store(new InMemorySessionStore()).reaperInterval(Duration.ZERO)
                .runtime(PythonRuntime.builder().build()).build().start();
        id = manager.create(SessionSpec.builder("bench").runtime("python").noIdleTimeout().build()).id();
        manager.execute(id, "x = 0", null, null);
    }

    /** Closing the manager ends the session, which kills its worker. */
    @TearDown(Level.Trial)
    public void close() {
        manager.close();
    }

    @Benchmark
    public ExecutionResult increment() {
        ExecutionResult r = manager.execute(id, "x = x + 1", null, null);
        if (r.status() != ExecutionStatus.OK) {
            throw new IllegalStateException("execution ended " + r.status() + ": " + r.error());
        }
        return r;
    }

    /** Output on the hot path: it is streamed to the listener and kept for the result. */
    @Benchmark
    public ExecutionResult print100Lines() {
        ExecutionResult r = manager.execute(id, "for i in range(100): print(i)", null, (stream, text) -> { });
        if (r.status() != ExecutionStatus.OK || r.stdout().length() != 290) {
            throw new IllegalStateException("execution ended " + r.status() + ": " + r.error());
        }
        return r;
    }
}
