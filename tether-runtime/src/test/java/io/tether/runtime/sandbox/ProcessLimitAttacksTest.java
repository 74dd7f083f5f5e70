package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.testing.Confinement;
import io.tether.testing.Eventually;
import io.tether.testing.HostProcesses;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A fork bomb stops at its session's process limit, which counts that session's processes
 * only (also when Tether runs as root): the other sessions go on forking. Without the
 * sandbox, root's processes are not counted at all.
 */
class ProcessLimitAttacksTest extends AttackFixture {
    private static final int LIMIT = 50;

    /** Forks until refused, or until twice the limit so that it always ends; the children wait. */
    private static final String BOMB = """
            import os, signal
            children, refused = [], None
            while len(children) < %d:
                try:
                    pid = os.fork()
                except OSError as e:
                    refused = '%%s: %%s' %% (type(e).__name__, e)
                    break
                if pid == 0:
                    while True:
                        signal.pause()
                children.append(pid)
            [len(children), refused]""".formatted(2 * LIMIT);

    private static final String FORK_ONCE = """
            import os
            pid = os.fork()
            if pid == 0:
                os._exit(7)
            os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])""";

    private static WorkerLimits limited() {
        WorkerLimits d = WorkerLimits.DEFAULTS;
        return new WorkerLimits(d.maxOutputBytes(), d.maxCodeBytes(), d.memoryBytes(), d.cpuTime(), LIMIT,
                d.maxFileBytes(), d.diskQuotaBytes(), d.killGrace());
    }

    /** The session's processes by a pid scan: its PID namespace in the sandbox, else the worker's process group. */
    private static Set<Long> processesOf(Confinement c, long worker, String namespace) {
        return c.sandboxed() ? HostProcesses.inPidNamespace(namespace) : HostProcesses.inGroup(worker);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void aForkBombStopsAtItsSessionsProcessLimit(Confinement c) {
        assumeTrue(c.sandboxed() || root(), "without the sandbox only root's processes escape the limit");
        Worker bystander = session(c, limited());
        Worker bomb = session(c, limited());
        long worker = bomb.pid();
        // The interpreter's: a session's init is the worker the JVM knows, a cold worker's jail the process above it.
        String namespace = HostProcesses.pidNamespace(hostPid(bomb, (Long) value(bomb, "import os\nos.getpid()")));
        assertThat(processesOf(c, worker, namespace)).as("before the bomb").hasSizeLessThanOrEqualTo(2);

        List<?> outcome = (List<?>) value(bomb, BOMB);
        long children = (Long) outcome.get(0);
        if (c.sandboxed()) {
            assertThat(outcome.get(1)).as("refused at the limit").isEqualTo("BlockingIOError: [Errno 11] Resource temporarily unavailable");
            assertThat(children).as("every process and thread of the session counts").isBetween(LIMIT - 5L, LIMIT - 1L);
        } else {
            assertThat(outcome.get(1)).as("the attack works without the sandbox: never refused").isNull();
            assertThat(children).isEqualTo(2L * LIMIT);
        }
        assertThat(processesOf(c, worker, namespace).size()).as("the session's processes by pid")
                .isGreaterThanOrEqualTo((int) children + 1);
        assertThat(value(bystander, FORK_ONCE)).as("another session still forks").isEqualTo(7L);
        assertThat(value(bomb, "6 * 7")).as("the bomb's own worker still answers").isEqualTo(42L);

        bomb.close();
        Eventually.eventually(GONE_WITHIN, "every process of the session gone",
                () -> processesOf(c, worker, namespace).isEmpty());
        assertThat(value(bystander, FORK_ONCE)).isEqualTo(7L);
    }
}
