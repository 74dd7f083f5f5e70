package io.tether.runtime.sandbox;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a test: the costs quoted in the {@link Cgroups} javadoc. Run with
 * {@code mvn -pl tether-runtime verify -Dtest=CgroupsMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false -Dtether.measure=true}.
 */
@EnabledIfSystemProperty(named = "tether.measure", matches = "true")
class CgroupsMeasurement {
    static final int ROUNDS = Integer.getInteger("tether.measure.rounds", 200);
    static final int WARM_UP = Integer.getInteger("tether.measure.warmUp", 300);

    @Test
    void createAddClose() throws Exception {
        Cgroups.Availability opened = Cgroups.open("tether-measure");
        assumeTrue(opened instanceof Cgroups.Available, opened::toString);
        try (Cgroups cgroups = opened.toOptional().orElseThrow()) {
            System.out.println("MEASURE layout: " + cgroups);
            long[] create = new long[ROUNDS];
            long[] add = new long[ROUNDS];
            long[] close = new long[ROUNDS];
            long[] total = new long[ROUNDS];
            long[] empty = new long[ROUNDS];
            for (int i = -WARM_UP; i < ROUNDS; i++) {
                Process sleeper = new ProcessBuilder("/bin/sleep", "60").start(); // not timed
                long t0 = System.nanoTime();
                CgroupSlot slot = cgroups.create("m" + i, 256L << 20, 64);
                long t1 = System.nanoTime();
                slot.add(sleeper.pid());
                long t2 = System.nanoTime();
                slot.close(); // kills the sleeper and waits until the slot is empty
                long t3 = System.nanoTime();
                long t4 = System.nanoTime();
                cgroups.create("e" + i, 256L << 20, 64).close();
                long t5 = System.nanoTime();
                sleeper.waitFor(10, TimeUnit.SECONDS);
                if (i >= 0) {
                    create[i] = t1 - t0;
                    add[i] = t2 - t1;
                    close[i] = t3 - t2;
                    total[i] = t3 - t0;
                    empty[i] = t5 - t4;
                }
            }
            report("create", create);
            report("add", add);
            report("close (kill 1 process, wait, rmdir)", close);
            report("create+add+close", total);
            report("create+close, no process", empty);

            long[] direct = new long[ROUNDS / 4];
            long[] prefixed = new long[ROUNDS / 4];
            try (CgroupSlot slot = cgroups.create("spawn", 0, 0)) {
                for (int i = -5; i < direct.length; i++) {
                    long t0 = System.nanoTime();
                    new ProcessBuilder("/bin/true").start().waitFor();
                    long t1 = System.nanoTime();
                    List<String> command = new ArrayList<>(slot.joinCommandPrefix());
                    command.add("/bin/true");
                    new ProcessBuilder(command).start().waitFor();
                    long t2 = System.nanoTime();
                    if (i >= 0) {
                        direct[i] = t1 - t0;
                        prefixed[i] = t2 - t1;
                    }
                }
            }
            report("start+wait /bin/true", direct);
            report("start+wait /bin/true behind joinCommandPrefix", prefixed);
        }
    }

    private static void report(String what, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf("MEASURE %s: median %.1f µs, p99 %.1f µs, max %.1f µs (%d rounds)%n", what,
                sorted[sorted.length / 2] / 1e3, sorted[(int) Math.ceil(sorted.length * 0.99) - 1] / 1e3,
                sorted[sorted.length - 1] / 1e3, sorted.length);
    }
}
