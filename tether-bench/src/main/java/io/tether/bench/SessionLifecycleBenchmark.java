package io.tether.bench;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import java.nio.file.Path;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the session manager's hot operations over each store: a durable
 * create followed by a durable end, and a touch (write-behind). Run with {@code -t N}
 * for N threads; each thread touches its own session. The PostgreSQL store is not in the
 * default list (it needs a database): {@code -p store=sqlite,postgresql} with
 * {@code TETHER_BENCH_STORE_URL} set.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@State(Scope.Benchmark)
public class SessionLifecycleBenchmark {
    @Param({"memory", "sqlite", "sqlite-normal"})
    public String store;

    SessionManager manager;
    private Path dir;
    private final SessionSpec spec = SessionSpec.of("bench");

    /** A fresh store every iteration: ended sessions stay in a store, and a store that grew
     *  by a million rows in earlier iterations would measure the garbage collector instead. */
    @Setup(Level.Iteration)
    public void open() {
        dir = BenchStores.tempDir();
        manager = SessionManager.builder().store(BenchStores.open(store, dir))
                .maxSessions(10_000_000).reaperInterval(Duration.ZERO).build().start();
    }

    @TearDown(Level.Iteration)
    public void close() {
        manager.close();
        BenchStores.delete(dir);
    }

    /** One session per benchmark thread, for touches. */
    @State(Scope.Thread)
    public static class OwnSession {
        String id;

        @Setup(Level.Iteration)
        public void create(SessionLifecycleBenchmark b) {
            id = b.manager.create(SessionSpec.builder("toucher").noIdleTimeout().build()).id();
        }
    }

    @Benchmark
    public Session createAndEnd() {
        Session s = manager.create(spec);
        return manager.end(s.id(), EndReason.MANUAL);
    }

    @Benchmark
    public Session touch(OwnSession own) {
        return manager.touch(own.id);
    }
}
