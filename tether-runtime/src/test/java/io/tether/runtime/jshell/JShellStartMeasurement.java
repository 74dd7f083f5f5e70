package io.tether.runtime.jshell;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;

/**
 * Not a test: figures for docs/runtimes.md, JShell workers with and without the sandbox:
 * start and close times, the JVM's threads, the lowest process limit it works under. Run
 * with {@code mvn -pl tether-runtime -am verify -Dtest=JShellStartMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false -Dtether.measure=true}.
 */
@EnabledIfSystemProperty(named = "tether.measure", matches = "true")
class JShellStartMeasurement extends JShellRuntimeFixture {
    static final int STARTS = Integer.getInteger("tether.measure.starts", 10);

    @Override
    boolean sandboxed() {
        return true;
    }

    @Test
    void startTimeThreadsAndProcessLimit() throws Exception {
        JShellRuntime open = JShellRuntime.builder().workRoot(workRoot).build();
        JShellRuntime[] runtimes = {open, runtime};
        long[][] start = new long[2][STARTS];
        long[][] close = new long[2][STARTS];
        for (JShellRuntime r : runtimes) {
            r.start(limited(0)).close(); // warm-up: page cache, CDS archive
        }
        // Alternately, so that both see the same load on a shared machine.
        for (int i = 0; i < STARTS; i++) {
            for (int k = 0; k < 2; k++) {
                long t = System.nanoTime();
                Worker w = runtimes[k].start(limited(SERVER_MAX_PROCESSES));
                start[k][i] = System.nanoTime() - t;
                t = System.nanoTime();
                w.close();
                close[k][i] = System.nanoTime() - t;
            }
        }
        for (int k = 0; k < 2; k++) {
            JShellRuntime r = runtimes[k];
            String label = r.sandbox().enabled() ? "sandbox on" : "sandbox off";
            Arrays.sort(start[k]);
            Arrays.sort(close[k]);
            System.out.printf("MEASURE %s: start median %.0f ms (min %.0f, max %.0f, %d starts); close median %.1f ms%n",
                    label, start[k][STARTS / 2] / 1e6, start[k][0] / 1e6, start[k][STARTS - 1] / 1e6, STARTS,
                    close[k][STARTS / 2] / 1e6);
            try (Worker w = r.start(limited(SERVER_MAX_PROCESSES))) {
                long jvm = ProcessHandle.of(w.pid()).orElseThrow().descendants()
                        .filter(p -> p.info().command().orElse("").endsWith("/java")).findFirst()
                        .map(ProcessHandle::pid).orElse(w.pid());
                int idle = threads(jvm);
                ExecutionResult during = run(w, "Files.readAllLines(Path.of(\"/proc/self/status\")).stream()"
                        + ".filter(l -> l.startsWith(\"Threads:\")).findFirst().get().split(\"\\\\s+\")[1]");
                for (int i = 0; i < 20; i++) {
                    run(w, "int v" + i + " = " + i + "; String s" + i + " = \"x\".repeat(v" + i + ");");
                }
                System.out.printf("MEASURE %s: JVM threads idle after start %d, during an evaluation %s, "
                        + "idle after 20 evaluations %d%n", label, idle, during.result().get("application/json"),
                        threads(jvm));
            }
        }
        for (int limit = 20; limit >= 14; limit--) {
            String outcome;
            try (Worker w = runtime.start(limited(limit))) {
                ExecutionResult r = run(w, "String.join(\",\", List.of(\"a\", \"b\"))");
                outcome = r.status() == ExecutionStatus.OK ? "starts and evaluates" : "starts, evaluation " + r.status();
            } catch (TetherException e) {
                outcome = "does not start: " + e.getMessage().lines().findFirst().orElse("");
            }
            System.out.printf("MEASURE process limit %d: %s%n", limit, outcome);
        }
    }

    private static WorkerOptions limited(int maxProcesses) {
        return new WorkerOptions(new WorkerLimits(1 << 20, 1 << 20, 2L << 30, null, maxProcesses, 1L << 30,
                0, Duration.ofSeconds(2)));
    }

    private static ExecutionResult run(Worker w, String code) {
        return w.execute(new ExecutionRequest(1, code, Duration.ofSeconds(30)), OutputListener.NONE);
    }

    private static int threads(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("Threads:")) {
                return Integer.parseInt(line.substring(8).trim());
            }
        }
        throw new IllegalStateException("no Threads line for " + pid);
    }
}
