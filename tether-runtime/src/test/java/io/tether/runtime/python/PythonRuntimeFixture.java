package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.sandbox.Sandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * One Python runtime per test class, forked (the default) or cold, sandboxed or not (the
 * default) as a subclass chooses, with its workers' directories in a temporary work root.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PythonRuntimeFixture {
    @TempDir
    static Path dir;

    PythonRuntime runtime;

    /** Whether this run's workers are forked (the default) or started cold; see the subclasses. */
    boolean forkServer() {
        return true;
    }

    /** Whether this run's workers are sandboxed (every layer the host offers); see the subclasses. */
    boolean sandboxed() {
        return false;
    }

    @BeforeAll
    void runtime() throws Exception {
        Sandbox sandbox = Sandbox.off();
        if (sandboxed()) {
            // The jail's user (nobody, when the tests run as root) must reach the work root.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            sandbox = Sandbox.builder().workRoot(dir).build();
            assertThat(sandbox.missing()).as("sandbox layers missing on this host").isEmpty();
        }
        runtime = PythonRuntime.builder().workRoot(dir).forkServer(forkServer()).sandbox(sandbox).build();
        assertThat(runtime.mode()).isEqualTo(forkServer() ? PythonRuntime.Mode.FORK_SERVER : PythonRuntime.Mode.COLD);
    }

    @AfterAll
    void closeRuntime() {
        runtime.close();
    }
}
