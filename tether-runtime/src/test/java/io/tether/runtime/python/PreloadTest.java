package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.sandbox.Sandbox;
import io.tether.testing.OpenDirectories;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fork server's preloaded modules ({@code python_preload}): forked workers have them
 * without importing, and what must differ between sessions still does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PreloadTest {
    @TempDir
    static Path dir;
    Path extra;
    PythonRuntime runtime;

    boolean sandboxed() {
        return false;
    }

    Sandbox sandbox() throws Exception {
        if (!sandboxed()) {
            return Sandbox.off();
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Sandbox sandbox = Sandbox.builder().workRoot(dir).build();
        assertThat(sandbox.missing()).as("sandbox layers missing on this host").isEmpty();
        return sandbox;
    }

    @BeforeAll
    void runtime() throws Exception {
        extra = OpenDirectories.create("preload-path-");
        Files.writeString(extra.resolve("tether_preload_probe.py"), "import os\nLOADED_BY = os.getpid()\n");
        runtime = PythonRuntime.builder().workRoot(dir).sandbox(sandbox()).pythonPath(List.of(extra))
                .preload(List.of("numpy", "pandas", "no_such_module_here", "matplotlib.pyplot", "tether_preload_probe"))
                .build();
    }

    @AfterAll
    void close() throws Exception {
        runtime.close();
        new ProcessBuilder("rm", "-rf", extra.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }

    static ExecutionResult ok(Worker worker, String code) {
        ExecutionResult r = worker.execute(new ExecutionRequest(1, code, Duration.ofSeconds(60)), OutputListener.NONE);
        assertThat(r.status()).as("%s → %s", code, r).isEqualTo(ExecutionStatus.OK);
        return r;
    }

    Worker start() {
        return runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS));
    }

    @Test
    void aForkedWorkerHasThePreloadedModulesBeforeItImportsAnything() {
        try (Worker w = start()) {
            assertThat(ok(w, "import sys\nsorted(m for m in ('numpy', 'pandas', 'matplotlib.pyplot', "
                    + "'tether_preload_probe') if m in sys.modules)").result().get("application/json"))
                    .isEqualTo(List.of("matplotlib.pyplot", "numpy", "pandas", "tether_preload_probe"));
            assertThat(ok(w, "import tether_preload_probe, os\ntether_preload_probe.LOADED_BY != os.getpid()")
                    .result()).as("imported by the fork server, not by this worker")
                    .containsEntry("application/json", true);
        }
    }

    @Test
    void aModuleThatCannotBeImportedIsSkippedAndSessionsSeeItsErrorThemselves() {
        try (Worker w = start()) {
            ExecutionResult r = w.execute(new ExecutionRequest(1, "import no_such_module_here", Duration.ofSeconds(20)),
                    OutputListener.NONE);
            assertThat(r.status()).isEqualTo(ExecutionStatus.ERROR);
            assertThat(r.error().name()).isEqualTo("ModuleNotFoundError");
        }
    }

    @Test
    void sessionsDrawDifferentRandomNumbers() {
        try (Worker a = start(); Worker b = start()) {
            String draw = "import numpy, random\n[float(numpy.random.rand()), random.random()]";
            List<?> fromA = (List<?>) ok(a, draw).result().get("application/json");
            List<?> fromB = (List<?>) ok(b, draw).result().get("application/json");
            assertThat(fromA.get(0)).as("numpy's global generator, reseeded in each worker").isNotEqualTo(fromB.get(0));
            assertThat(fromA.get(1)).isNotEqualTo(fromB.get(1));
        }
    }

    @Test
    void numpysThreadsWorkAfterTheFork() {
        try (Worker w = start()) {
            assertThat(ok(w, """
                    import numpy
                    a = numpy.arange(160000.).reshape(400, 400)
                    int((a @ a.T).trace()) == sum(i * i for i in range(160000))""").result())
                    .containsEntry("application/json", true);
        }
    }

    @Test
    void aPlotDrawnWithThePreloadedPyplotComesBackAsAPngWithoutWarnings() throws Exception {
        try (Worker w = start()) {
            ExecutionResult r = ok(w, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nNone");
            assertThat(r.stderr()).isEmpty();
            List<Output.DisplayData> shown = RichOutputTest.displays(r);
            assertThat(shown).hasSize(1);
            BufferedImage png = RichOutputTest.png(shown.get(0).data());
            assertThat(png.getWidth()).isEqualTo(640);
            assertThat(png.getHeight()).isEqualTo(480);
        }
    }

    @Test
    void aNameThatIsNoModuleNameIsRefused() {
        assertThatThrownBy(() -> PythonRuntime.builder().preload(List.of("numpy; import os")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("numpy; import os");
        assertThatThrownBy(() -> PythonRuntime.builder().preload(List.of("")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
