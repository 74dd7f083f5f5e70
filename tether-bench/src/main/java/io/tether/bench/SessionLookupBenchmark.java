package io.tether.bench;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
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
 * Looking a session up by id, as every request naming a session does: among {@code live}
 * active sessions ({@code live}: answered from the manager's live map, never the store),
 * and an ended session ({@code ended}: the manager asks the store, for SQLite a read from
 * the file). Ids are picked at random per call. Run with {@code -t N} for N threads.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@State(Scope.Benchmark)
public class SessionLookupBenchmark {
    @Param({"memory", "sqlite"})
    public String store;

    @Param({"10000"})
    public int sessions;

    private SessionManager manager;
    private Path dir;
    private String[] live;
    private String[] ended;

    @Setup(Level.Trial)
    public void open() {
        dir = BenchStores.tempDir();
        manager = SessionManager.builder().store(BenchStores.open(store, dir)).maxSessions(10_000_000)
                .reaperInterval(Duration.ZERO).build().start();
        SessionSpec spec = SessionSpec.builder("bench").noIdleTimeout().build();
        live = new String[sessions];
        ended = new String[sessions];
        // Many writers at once: group commit keeps 2 x sessions durable SQLite writes to seconds.
        try (ExecutorService writers = Executors.newFixedThreadPool(32)) {
            for (int i = 0; i < sessions; i++) {
                int n = i;
                writers.submit(() -> {
                    live[n] = manager.create(spec).id();
                    ended[n] = manager.create(spec).id();
                    manager.end(ended[n], EndReason.MANUAL);
                });
            }
        }
        for (int i = 0; i < sessions; i++) {
            if (live[i] == null || ended[i] == null) {
                throw new IllegalStateException("session " + i + " was not created");
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        manager.close();
        BenchStores.delete(dir);
    }

    @Benchmark
    public Session live() {
        return manager.get(live[ThreadLocalRandom.current().nextInt(live.length)]);
    }

    @Benchmark
    public Session ended() {
        return manager.get(ended[ThreadLocalRandom.current().nextInt(ended.length)]);
    }
}
