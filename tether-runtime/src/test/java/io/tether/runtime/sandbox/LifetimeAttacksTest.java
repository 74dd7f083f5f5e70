package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.Worker;
import io.tether.testing.Confinement;
import io.tether.testing.Eventually;
import io.tether.testing.HostProcesses;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Nothing a session started outlives it: not a daemon that left the worker's process group
 * and session, not a stopped process, not grandchildren whose parent exited. In the sandbox
 * they are all gone within a second of the session's end; without it they escape (the test
 * kills them).
 */
class LifetimeAttacksTest extends AttackFixture {

    /**
     * Python that forks a child which calls {@code setsid}, starts {@code count} processes
     * that run {@code body} after writing their pid to a pipe, and exits: they are orphans in
     * a session and process group of their own. Returns their pids (as the session sees them).
     */
    private static String escape(int count, String body) {
        return """
                import os, signal, time
                r, w = os.pipe()
                if os.fork() == 0:
                    os.close(r)
                    os.setsid()
                    middle = os.getpid()
                    for _ in range(%d):
                        if os.fork() == 0:
                            os.setpgid(0, 0)
                            os.closerange(3, w)
                            os.closerange(w + 1, 65536)
                            os.write(w, b'%%d\\n' %% os.getpid())
                            os.close(w)
                            %s
                            while True:
                                time.sleep(60)
                    os._exit(0)
                os.close(w)
                os.wait()
                with os.fdopen(r) as f:
                    pids = [int(p) for p in f.read().split()]
                pids""".formatted(count, body);
    }

    private List<Long> escapedPids(Worker w, String code) {
        @SuppressWarnings("unchecked")
        List<Long> inside = (List<Long>) value(w, code);
        return inside.stream().map(p -> hostPid(w, p)).toList();
    }

    /** Ends the session; in the sandbox {@code pids} must be gone within a second, else they must live on. */
    private void endSessionThenCheck(Confinement c, Worker w, List<Long> pids) {
        long worker = w.pid();
        w.close();
        assertThat(HostProcesses.running(worker)).as("the worker is gone").isFalse();
        if (c.sandboxed()) {
            Eventually.eventually(GONE_WITHIN, "every process of the session gone: " + pids,
                    () -> pids.stream().noneMatch(HostProcesses::running));
        } else {
            pids.forEach(this::killAfterTest);
            assertThat(pids).as("the attack works without the sandbox: they outlive the session")
                    .allMatch(HostProcesses::running);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void aDaemonEndsWithItsSession(Confinement c) {
        Worker w = session(c);
        List<Long> daemon = escapedPids(w, escape(1, "pass"));
        assertThat(daemon).hasSize(1).allMatch(HostProcesses::running);
        assertThat(HostProcesses.group(daemon.get(0))).as("it left the worker's process group").isNotEqualTo(w.pid());
        endSessionThenCheck(c, w, daemon);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void aStoppedProcessEndsWithItsSession(Confinement c) {
        Worker w = session(c);
        // It stops once its parent has exited: a stopped process in a process group that its
        // parent's exit orphans gets SIGHUP and SIGCONT from the kernel, and would die of it.
        List<Long> stopped = escapedPids(w, escape(1, "[time.sleep(0.001) for _ in iter(lambda: os.getppid() == middle, "
                + "False)]; os.kill(os.getpid(), signal.SIGSTOP)"));
        Eventually.eventually(Duration.ofSeconds(5), "it stopped", () -> HostProcesses.state(stopped.get(0)) == 'T');
        endSessionThenCheck(c, w, stopped);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void grandchildrenWhoseParentExitedEndWithTheirSession(Confinement c) {
        Worker w = session(c);
        List<Long> orphans = escapedPids(w, escape(3, "pass"));
        assertThat(orphans).hasSize(3).allMatch(HostProcesses::running);
        endSessionThenCheck(c, w, orphans);
    }
}
