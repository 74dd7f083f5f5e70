package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.auth.TokenStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the Python client's unittest suite ({@code clients/python/tests}) against a real server
 * with token auth, so {@code mvn verify} checks the Python client against the API it speaks.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PythonClientTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @TempDir
    Path dataDir;

    @Test
    void pythonClientSuitePassesAgainstARealServer() throws Exception {
        Path client = repositoryRoot().resolve("clients/python");
        assertThat(client.resolve("tether_client/__init__.py")).as("the Python client's package").exists();
        assertThat(PYTHON).as("a Python 3 to run the client's tests").isExecutable();

        try (TetherServer server = Api.start(dataDir, Map.of())) {
            String token = Files.readString(TokenStore.open(dataDir).adminTokenFile()).trim();
            Path log = dataDir.resolve("python-client-tests.log");
            ProcessBuilder pb = new ProcessBuilder(List.of(PYTHON.toString(), "-m", "unittest", "discover",
                    "-s", client.resolve("tests").toString(), "-v"))
                    .directory(client.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("TETHER_URL", server.url());
            pb.environment().put("TETHER_TOKEN", token);
            pb.environment().put("PYTHONPATH", client.toString());
            pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            Process p = pb.start();
            if (!p.waitFor(240, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("the Python client's tests did not finish within 240 s:\n" + read(log));
            }
            String output = read(log);
            System.out.println(output);
            assertThat(p.exitValue()).as("python3 -m unittest exit code; output:\n%s", output).isZero();
            assertThat(output).as("the live tests ran (not skipped)").doesNotContain("skipped 'TETHER_URL")
                    .contains("test_auto_session_ends_when_the_block_raises").contains("OK");
        }
    }

    private static String read(Path log) throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** The repository's root: surefire runs in the module's directory, one below it. */
    private static Path repositoryRoot() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("clients/python"))) {
                return d;
            }
        }
        throw new AssertionError("no clients/python above " + dir);
    }
}
