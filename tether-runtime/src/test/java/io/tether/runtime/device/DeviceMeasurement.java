package io.tether.runtime.device;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.testing.DeviceSim;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not a test: figures for docs/benchmarks.md, device sessions on the simulated device against
 * the raw transport floor. Run with {@code mvn -pl tether-runtime -am verify
 * -Dtest=DeviceMeasurement -Dsurefire.failIfNoSpecifiedTests=false -Dtether.measure=true}.
 */
@EnabledIfSystemProperty(named = "tether.measure", matches = "true")
class DeviceMeasurement {
    static final int CALLS = Integer.getInteger("tether.measure.calls", 300);
    static final int CREATES = Integer.getInteger("tether.measure.creates", 10);

    @TempDir
    Path work;

    @Test
    void figures() throws Exception {
        String address = DeviceSim.address();
        // the floor: one raw REPL exchange of an empty program, no session around it
        try (RawRepl repl = new RawRepl(DeviceAddress.parse(address).open(), "floor")) {
            repl.enter(Duration.ofSeconds(20));
            long[] floor = new long[CALLS];
            for (int i = -20; i < CALLS; i++) {
                long t = System.nanoTime();
                long d = t + Duration.ofSeconds(10).toNanos();
                repl.start("pass".getBytes(StandardCharsets.UTF_8), false, d).finish(x -> { }, d);
                if (i >= 0) {
                    floor[i] = System.nanoTime() - t;
                }
            }
            print("raw REPL exchange (floor)", floor);
        }
        long[] connect = new long[CREATES];
        for (int i = 0; i < CREATES; i++) {
            long t = System.nanoTime();
            try (RawRepl repl = new RawRepl(DeviceAddress.parse(address).open(), "connect")) {
                repl.enter(Duration.ofSeconds(20));
                connect[i] = System.nanoTime() - t;
            }
        }
        print("process start to raw prompt (floor of a create)", connect);

        long[] cold = new long[CREATES];
        long[] warm = new long[CREATES];
        for (int i = 0; i < CREATES; i++) {
            DeviceRuntime runtime = DeviceRuntime.builder().device("sim", address).workRoot(work).build();
            try (SessionManager m = SessionManager.builder().reaperInterval(Duration.ZERO).runtime(runtime).build().start()) {
                long t = System.nanoTime();
                Session s = m.create(SessionSpec.builder("bench").runtime("micropython").device("sim").build());
                cold[i] = System.nanoTime() - t;
                m.end(s.id(), EndReason.MANUAL);
                t = System.nanoTime();
                s = m.create(SessionSpec.builder("bench").runtime("micropython").device("sim").build());
                warm[i] = System.nanoTime() - t;
                m.end(s.id(), EndReason.MANUAL);
            }
        }
        print("session create, cold (capabilities probed)", cold);
        print("session create, capabilities cached", warm);

        for (boolean sync : new boolean[] {false, true}) {
            DeviceRuntime runtime = DeviceRuntime.builder().device("sim", address).workRoot(work).syncFiles(sync).build();
            try (SessionManager m = SessionManager.builder().reaperInterval(Duration.ZERO).runtime(runtime).build().start()) {
                Session s = m.create(SessionSpec.builder("bench").runtime("micropython").device("sim").build());
                long[] exec = new long[CALLS];
                for (int i = -20; i < CALLS; i++) {
                    long t = System.nanoTime();
                    m.execute(s.id(), "x = 1", Duration.ofSeconds(10), null);
                    if (i >= 0) {
                        exec[i] = System.nanoTime() - t;
                    }
                }
                print("execute round trip, syncFiles=" + sync, exec);
                if (!sync) {
                    DeviceSession device = DeviceSession.of(m, runtime, s.id());
                    device.deploy("def add(a, b):\n    return a + b");
                    long[] call = new long[CALLS];
                    for (int i = -20; i < CALLS; i++) {
                        long t = System.nanoTime();
                        device.deploy("def add(a, b):\n    return a + b");
                        device.call("add", i, 1);
                        if (i >= 0) {
                            call[i] = System.nanoTime() - t;
                        }
                    }
                    print("task call round trip (cached deploy + call + JSON result)", call);
                }
            }
        }
    }

    private static void print(String what, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        System.out.printf("MEASURE %-58s n=%4d median %8.2f ms  p99 %8.2f ms%n", what, s.length, s[s.length / 2] / 1e6,
                s[Math.min(s.length - 1, (int) Math.ceil(s.length * 0.99) - 1)] / 1e6);
    }
}
