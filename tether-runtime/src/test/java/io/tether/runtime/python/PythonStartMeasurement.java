package io.tether.runtime.python;

import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not a test: figures for docs/runtimes.md, fork server vs cold. Run with
 * {@code mvn -pl tether-core,tether-runtime -am verify -Dtest=PythonStartMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false -Dtether.measure=true}.
 */
@EnabledIfSystemProperty(named = "tether.measure", matches = "true")
class PythonStartMeasurement {
    static final int STARTS = Integer.getInteger("tether.measure.starts", 50);
    static final int IDLE = 10;

    @TempDir
    Path dir;

    @Test
    void startLatencyAndIdleMemory() throws Exception {
        for (boolean fork : new boolean[] {true, false}) {
            try (PythonRuntime runtime = PythonRuntime.builder().workRoot(dir).forkServer(fork).build()) {
                WorkerOptions options = new WorkerOptions(WorkerLimits.DEFAULTS);
                for (int i = 0; i < 10; i++) { // warm-up, and starts the fork server
                    runtime.start(options).close();
                }
                long[] nanos = new long[STARTS];
                for (int i = 0; i < STARTS; i++) {
                    long t = System.nanoTime();
                    Worker w = runtime.start(options);
                    nanos[i] = System.nanoTime() - t;
                    w.close();
                }
                Arrays.sort(nanos);
                List<Worker> idle = new ArrayList<>();
                for (int i = 0; i < IDLE; i++) {
                    idle.add(runtime.start(options));
                }
                long[] pss = new long[IDLE];
                long[] priv = new long[IDLE];
                for (int i = 0; i < IDLE; i++) {
                    pss[i] = rollup(idle.get(i).pid(), "Pss:");
                    priv[i] = rollup(idle.get(i).pid(), "Private_Clean:") + rollup(idle.get(i).pid(), "Private_Dirty:");
                }
                Arrays.sort(pss);
                Arrays.sort(priv);
                System.out.printf("MEASURE %s: start to ready median %.2f ms, p99 %.2f ms, min %.2f, max %.2f (%d starts);"
                                + " idle PSS median %d kB, private median %d kB (%d workers)%s%n",
                        runtime.mode(), nanos[STARTS / 2] / 1e6, nanos[(int) Math.ceil(STARTS * 0.99) - 1] / 1e6,
                        nanos[0] / 1e6, nanos[STARTS - 1] / 1e6, STARTS, pss[IDLE / 2], priv[IDLE / 2], IDLE,
                        fork ? "; server PSS " + rollup(runtime.forkServerPid(), "Pss:") + " kB" : "");
                idle.forEach(Worker::close);
            }
        }
    }

    static long rollup(long pid, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        throw new IOException(key + " missing for " + pid);
    }
}
