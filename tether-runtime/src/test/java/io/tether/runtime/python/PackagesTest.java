package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.sandbox.Sandbox;
import io.tether.testing.OpenDirectories;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Installed packages, the interpreter and virtualenv settings and the workers' environment,
 * with real interpreters (Debian's python3 with python3-numpy; a virtualenv made here).
 */
class PackagesTest extends PythonRuntimeFixture {
    private Path venvRoot;

    static ExecutionResult run(Worker worker, String code) {
        return worker.execute(new ExecutionRequest(1, code, Duration.ofSeconds(60)), OutputListener.NONE);
    }

    static ExecutionResult ok(Worker worker, String code) {
        ExecutionResult r = run(worker, code);
        assertThat(r.status()).as("%s → %s", code, r).isEqualTo(ExecutionStatus.OK);
        return r;
    }

    Sandbox sandbox() {
        return sandboxed() ? Sandbox.builder().workRoot(dir).build() : Sandbox.off();
    }

    @AfterAll
    void deleteVenv() throws Exception {
        if (venvRoot != null) {
            new ProcessBuilder("rm", "-rf", venvRoot.toString()).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void theInterpretersInstalledPackagesAreImportable() {
        try (Worker worker = runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS))) {
            ExecutionResult r = ok(worker, "import numpy\nint(numpy.arange(5).sum())");
            assertThat(r.result()).containsEntry("application/json", 10L);
            assertThat(ok(worker, "numpy.__file__").result().get("text/plain").toString())
                    .contains("/usr/lib/python3/dist-packages/numpy/");
        }
    }

    @Test
    void workersGetNoneOfTheJvmsEnvironmentUnlessAllowed() {
        String probe = "import os\nsorted(os.environ.items())";
        try (Worker worker = runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS))) {
            assertThat(System.getenv("HOME")).as("the JVM's environment has HOME").isNotNull();
            assertThat(ok(worker, "import os\nsorted(os.environ)").result().get("application/json"))
                    .isEqualTo(List.of("LANG", "PATH"));
            assertThat(ok(worker, probe).result().get("text/plain").toString())
                    .contains("('LANG', 'C.UTF-8')", "('PATH', '/usr/local/bin:/usr/bin:/bin')");
        }
        PythonRuntime allowing = PythonRuntime.builder().workRoot(dir).sandbox(sandbox())
                .workerEnvironment(List.of("HOME", "TETHER_TEST_ANSWER=42", "NOT_SET_ANYWHERE_XYZ")).build();
        try (allowing; Worker worker = allowing.start(new WorkerOptions(WorkerLimits.DEFAULTS))) {
            assertThat(ok(worker, "import os\n[os.environ.get('HOME'), os.environ.get('TETHER_TEST_ANSWER'), "
                    + "'NOT_SET_ANYWHERE_XYZ' in os.environ]").result().get("application/json"))
                    .isEqualTo(List.of(System.getenv("HOME"), "42", false));
        }
    }

    @Test
    void aBadWorkerEnvironmentEntryIsRefused() {
        assertThatThrownBy(() -> PythonRuntime.builder().workerEnvironment(List.of("1BAD=x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'1BAD=x'");
        assertThatThrownBy(() -> PythonRuntime.builder().workerEnvironment(List.of("=x")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anInterpreterThatIsNotPythonFailsAtBuildWithWhatItSaid() throws Exception {
        assertThatThrownBy(() -> PythonRuntime.builder().executable(dir.resolve("no-such-python")).build())
                .isInstanceOf(TetherException.class)
                .satisfies(e -> assertThat(((TetherException) e).code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE))
                .hasMessageContaining("no executable Python interpreter at");
        Path fake = dir.resolve("fake-python");
        Files.writeString(fake, "#!/bin/sh\necho 'fake: not a python'\nexit 3\n");
        fake.toFile().setExecutable(true);
        assertThatThrownBy(() -> PythonRuntime.builder().executable(fake).build())
                .isInstanceOf(TetherException.class)
                .hasMessageContaining("is not a Python 3.8 or later interpreter")
                .hasMessageContaining("exited with 3")
                .hasMessageContaining("fake: not a python");
    }

    @Test
    void aVirtualenvsPackagesAreTheSessionsAndNothingBesideItIsReadable() throws Exception {
        venvRoot = OpenDirectories.create("venv-");
        Path venv = venvRoot.resolve("env");
        Process make = new ProcessBuilder("/usr/bin/python3", "-m", "venv", "--without-pip", venv.toString())
                .redirectErrorStream(true).start();
        assertThat(make.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(make.exitValue()).as(new String(make.getInputStream().readAllBytes())).isZero();
        Path sitePackages;
        try (var libs = Files.list(venv.resolve("lib"))) {
            sitePackages = libs.findFirst().orElseThrow().resolve("site-packages");
        }
        Files.writeString(sitePackages.resolve("venv_only_module.py"), "ANSWER = 'from the venv'\n");
        Files.writeString(venvRoot.resolve("secret.txt"), "beside the venv");
        new ProcessBuilder("chmod", "-R", "o+rX", venvRoot.toString()).start().waitFor(10, TimeUnit.SECONDS);

        PythonRuntime inVenv = PythonRuntime.builder().workRoot(dir).sandbox(sandbox())
                .executable(venv.resolve("bin/python")).build();
        try (inVenv; Worker worker = inVenv.start(new WorkerOptions(WorkerLimits.DEFAULTS))) {
            assertThat(ok(worker, "import venv_only_module\nvenv_only_module.ANSWER").result())
                    .containsEntry("application/json", "from the venv");
            assertThat(ok(worker, "import sys\nsys.prefix").result()).containsEntry("application/json", venv.toString());
            ExecutionResult secret = run(worker, "open('" + venvRoot.resolve("secret.txt") + "').read()");
            if (sandboxed()) {
                assertThat(secret.status()).isEqualTo(ExecutionStatus.ERROR);
                assertThat(secret.error().name()).isIn("FileNotFoundError", "PermissionError");
            } else {
                assertThat(secret.result()).containsEntry("application/json", "beside the venv");
            }
        }
    }

    @Test
    void anExtraPathUnderTmpIsRefusedWhereSessionsHaveTheirOwnTmp() throws Exception {
        Path underTmp = Files.createTempDirectory(Path.of("/tmp"), "pythonpath-");
        try {
            var builder = PythonRuntime.builder().workRoot(dir).sandbox(sandbox()).pythonPath(List.of(underTmp));
            if (sandboxed()) {
                assertThatThrownBy(builder::build).isInstanceOf(io.tether.TetherException.class)
                        .hasMessageContaining(underTmp + " (the Python interpreter, its virtualenv or a python_path "
                                + "entry) is under /tmp");
            } else {
                builder.build().close();
            }
        } finally {
            Files.delete(underTmp);
        }
    }

    @Test
    void extraPathsComeBeforeTheInstalledPackages() throws Exception {
        Path extra = OpenDirectories.create("pythonpath-");
        try {
            Files.writeString(extra.resolve("numpy.py"), "SHADOWED = True\n");
            PythonRuntime withPath = PythonRuntime.builder().workRoot(dir).sandbox(sandbox())
                    .pythonPath(List.of(extra)).build();
            try (withPath; Worker worker = withPath.start(new WorkerOptions(WorkerLimits.DEFAULTS))) {
                assertThat(ok(worker, "import numpy\nnumpy.SHADOWED").result()).containsEntry("application/json", true);
            }
        } finally {
            new ProcessBuilder("rm", "-rf", extra.toString()).start().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
