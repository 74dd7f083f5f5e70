package io.tether.server.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tether.server.Api;
import io.tether.server.TetherServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official MCP conformance suite ({@code .ci/mcp-conformance}, with its expected-failures
 * baseline) against a server started here, so that the build's one test command runs it too.
 * It needs npm to install the suite and its Node 22 (CI installs npm first); without npm it
 * is skipped, saying so.
 */
class McpConformanceTest {
    @TempDir
    Path dataDir;

    @Test
    void theOfficialSuitePassesButForItsBaseline() throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        Path script = root.resolve(".ci/mcp-conformance");
        assertThat(script).as("the conformance script in the checkout").exists();
        boolean installed = Files.isExecutable(root.resolve("target/mcp-conformance/node_modules/.bin/conformance"));
        assumeTrue(installed || onPath("npm"), "npm is not installed: the MCP conformance suite cannot be fetched "
                + "(apt-get install npm; .ci/run does)");
        // The suite sends no token: auth off, on loopback.
        try (TetherServer server = Api.start(dataDir, Map.of("auth", "none"))) {
            Process p = new ProcessBuilder("bash", script.toString(), "--url", server.url())
                    .redirectErrorStream(true).start();
            String out;
            try (var in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            boolean ended = p.waitFor(15, TimeUnit.MINUTES);
            if (!ended) {
                p.destroyForcibly();
            }
            System.out.println(out);
            assertThat(ended).as("the suite ended").isTrue();
            assertThat(p.exitValue()).as("the suite's exit code (output above):%n%s", out).isZero();
            assertThat(out).contains("== MCP conformance, protocol revision 2025-11-25");
        }
    }

    private static boolean onPath(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", "command -v " + command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }
}
