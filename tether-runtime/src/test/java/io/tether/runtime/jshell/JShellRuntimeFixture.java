package io.tether.runtime.jshell;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import io.tether.runtime.WorkDirectories;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.sandbox.Sandbox;

/**
 * One JShell runtime per test class, sandboxed or not (the default) as a subclass chooses,
 * with its workers' directories in {@link #workRoot}, inside {@link #base}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JShellRuntimeFixture {
    /** The server's default {@code worker_max_processes}: sandboxed workers run under it. */
    static final int SERVER_MAX_PROCESSES = 256;

    /**
     * A directory of the test's (mode 0755, unlike JUnit's 0700 {@code @TempDir}: when the
     * tests run as root the jail's user must pass it to reach the work root); holds the work
     * root and what a session must not see beside it.
     */
    Path base;
    Path workRoot;
    Sandbox sandbox;
    JShellRuntime runtime;

    /** Whether this run's workers are sandboxed (every layer the host offers); see the subclasses. */
    boolean sandboxed() {
        return false;
    }

    @BeforeAll
    void runtime() throws IOException {
        var open = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"));
        base = Files.createTempDirectory("tether-jshell-test-", open);
        workRoot = Files.createDirectory(base.resolve("work"), open);
        sandbox = Sandbox.off();
        if (sandboxed()) {
            sandbox = Sandbox.builder().workRoot(workRoot).build();
            assertThat(sandbox.has(Sandbox.Layer.JAIL)).as("the jail on this host: %s", sandbox.missing()).isTrue();
        }
        runtime = JShellRuntime.builder().workRoot(workRoot).sandbox(sandbox).build();
    }

    @AfterAll
    void deleteBase() {
        WorkDirectories.delete(base);
    }

    /** Limits with these values; sandboxed, under the server's default process limit. */
    WorkerOptions options(long maxOutputBytes, int maxCodeBytes, long memoryBytes, Duration killGrace) {
        return new WorkerOptions(new WorkerOptions.WorkerLimits(maxOutputBytes, maxCodeBytes, memoryBytes, null,
                sandboxed() ? SERVER_MAX_PROCESSES : 0, 1L << 30, 0, killGrace));
    }

    /** {@code directory} as the worker's code sees it: under /tether/work in the jail. */
    Path seenByTheWorker(Path directory) throws IOException {
        return sandbox.has(Sandbox.Layer.JAIL) ? sandbox.inJail(directory) : directory.toRealPath();
    }
}
