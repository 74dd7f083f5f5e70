package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.testing.Confinement;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Children that each stay under the per-process memory limit do not add up past the
 * session's: with the {@code cgroup} layer the whole tree is held to it and the kernel kills
 * one of them; without the sandbox all three hold their memory at once.
 */
class MemoryAttacksTest extends AttackFixture {
    private static final long LIMIT = 400L << 20;

    /**
     * Three children allocate (and touch) 250 MiB each and say so; counts those that did and
     * those killed by SIGKILL, waits at most 20 s, then ends the rest.
     */
    private static final String THREE_CHILDREN = """
            import os, signal, time
            r, w = os.pipe()
            kids = []
            for _ in range(3):
                pid = os.fork()
                if pid == 0:
                    os.close(r)
                    held = bytearray(250 << 20)
                    os.write(w, b'r')
                    while True:
                        signal.pause()
                kids.append(pid)
            os.close(w)
            os.set_blocking(r, False)
            ready, killed, deadline = 0, 0, time.monotonic() + 20
            while ready + killed < 3 and time.monotonic() < deadline:
                try:
                    ready += len(os.read(r, 3))
                except BlockingIOError:
                    pass
                for pid in list(kids):
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        kids.remove(pid)
                        killed += os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
                time.sleep(0.01)
            for pid in kids:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            [ready, killed]""";

    private static WorkerLimits limited() {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        return new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), LIMIT, d.cpuTime(), d.maxProcesses(),
                d.maxFileBytes(), d.diskQuotaBytes(), d.killGrace());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void childrenUnderTheProcessLimitDoNotAddUpPastTheSessions(Confinement c) {
        assumeTrue(!c.sandboxed() || runtimes.get(c).sandbox().has(Sandbox.Layer.CGROUP),
                "the whole tree's memory is held by the cgroup layer, which this host does not give");
        Worker bystander = session(c, limited());
        Worker attacker = session(c, limited());

        List<?> outcome = (List<?>) value(attacker, THREE_CHILDREN);

        long ready = (Long) outcome.get(0);
        long killed = (Long) outcome.get(1);
        if (c.sandboxed()) {
            assertThat(killed).as("killed by the kernel for the session's memory: %s", outcome).isGreaterThanOrEqualTo(1);
            assertThat(ready - killed).as("never all three holding at once: %s", outcome).isLessThan(3);
        } else {
            assertThat(outcome).as("the attack works without the sandbox: 750 MiB held under a limit of 400 MiB")
                    .isEqualTo(List.of(3L, 0L));
        }
        assertThat(value(attacker, "'still here'")).as("the interpreter lives on").isEqualTo("still here");
        assertThat(value(bystander, "len(bytearray(100 << 20))")).as("another session is untouched")
                .isEqualTo(100L << 20);
    }
}
