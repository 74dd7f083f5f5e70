package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * One Python runtime per test class, forked (the default) or cold as a subclass chooses,
 * with its workers' directories in a temporary work root.
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

    @BeforeAll
    void runtime() {
        runtime = PythonRuntime.builder().workRoot(dir).forkServer(forkServer()).build();
        assertThat(runtime.mode()).isEqualTo(forkServer() ? PythonRuntime.Mode.FORK_SERVER : PythonRuntime.Mode.COLD);
    }

    @AfterAll
    void closeRuntime() {
        runtime.close();
    }
}
