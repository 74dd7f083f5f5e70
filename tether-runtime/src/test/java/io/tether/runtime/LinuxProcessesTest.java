package io.tether.runtime;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The CPU time of a process tree, read from {@code /proc}, against real Python processes. */
class LinuxProcessesTest {
    /** Forks a child that spins 0.4 s and is waited for, then one that spins until killed; says "ready" between. */
    private static final String TREE = """
            import os, sys, time
            def spin(s):
                end = time.process_time() + s
                while time.process_time() < end:
                    pass
            if os.fork() == 0:
                spin(0.4)
                os._exit(0)
            os.wait()
            print('ready', flush=True)
            if os.fork() == 0:
                if os.fork() == 0:
                    spin(600)
                os.wait()
                os._exit(0)
            sys.stdin.read()
            """;

    @Test
    void aTreeCountsTheChildrenItWaitedForAndTheOnesStillRunningAtAnyDepth() throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", TREE).start();
        try {
            var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("ready");
            Duration waited = LinuxProcesses.cpuTime(p.pid()).orElseThrow();
            assertThat(waited).as("the child waited for").isGreaterThanOrEqualTo(Duration.ofMillis(390));

            eventually(Duration.ofSeconds(20), "the grandchild's spin counted", () ->
                    LinuxProcesses.cpuTime(p.pid()).orElseThrow().compareTo(waited.plusMillis(500)) > 0);
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
        assertThat(LinuxProcesses.cpuTime(p.pid())).as("gone").isEmpty();
        assertThat(LinuxProcesses.hasExited(p.pid())).isTrue();
    }

    @Test
    void aRunningProcessHasNotExited() {
        assertThat(LinuxProcesses.hasExited(ProcessHandle.current().pid())).isFalse();
        assertThat(LinuxProcesses.cpuTime(ProcessHandle.current().pid()).orElseThrow()).isPositive();
    }
}
