package io.tether.bench;

import io.tether.runtime.SessionRuntime;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.pool.WarmPool;
import io.tether.runtime.pool.WarmPoolStats;
import io.tether.runtime.python.PythonRuntime;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A warm-pool hit: {@link WarmPool#start} handing out a pre-started worker, the step a
 * session create with a runtime waits for. Before every call the pool is refilled
 * (untimed), so each one is a hit; the worker is closed untimed after it.
 *
 * <p>{@code stub}: workers are plain objects, so the figure is the pool's own cost (lock,
 * idle queue, the dead-worker check, the hand-out wrapper). {@code python}: real Python
 * workers forked from the fork server, the pool the server runs by default: the same plus
 * the worker's state check on a live process. Sample mode, one thread: a per-call setup
 * needs it.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Threads(1)
@State(Scope.Benchmark)
public class PoolAcquireBenchmark {
    private static final Duration REFILL_WAIT = Duration.ofSeconds(10);

    @Param({"stub", "python"})
    public String runtime;

    private WarmPool pool;
    private Worker acquired;

    @Setup(Level.Trial)
    public void open() {
        SessionRuntime delegate = runtime.equals("stub") ? new StubRuntime() : PythonRuntime.builder().build();
        pool = WarmPool.builder(delegate).minIdle(2).build();
    }

    @TearDown(Level.Trial)
    public void close() {
        WarmPoolStats stats = pool.stats();
        pool.close();
        if (stats.misses() != 0) {
            throw new IllegalStateException("a call missed the pool, so the figure is not a hit's: " + stats);
        }
    }

    /** Untimed: a full pool before every call. */
    @Setup(Level.Invocation)
    public void refill() throws InterruptedException {
        if (!pool.awaitIdle(2, REFILL_WAIT)) {
            throw new IllegalStateException("the pool did not refill within " + REFILL_WAIT + ": " + pool.stats());
        }
    }

    /** Untimed: the worker's session is over. */
    @TearDown(Level.Invocation)
    public void release() {
        acquired.close();
    }

    @Benchmark
    public Worker hit() {
        acquired = pool.start(WorkerOptions.DEFAULTS);
        return acquired;
    }
}
