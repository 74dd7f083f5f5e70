package io.tether.cli;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tether.server.ServerConfig;
import io.tether.server.Settings;
import io.tether.server.TetherServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI finds a server from the server's own configuration (config file, TETHER_CONFIG), and
 * a server on every interface says how other machines reach it; a request its Host check
 * refuses shows the server's advice.
 */
class ConfigDiscoveryTest {
    @TempDir
    Path tmp;

    record Result(int exit, String out, String err) {
    }

    private static Result tether(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = TetherCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new Result(exit, out.toString(), err.toString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void execFindsTheServerOfTheDocumentedConfigFileWithNothingElseGiven() throws Exception {
        ServerCliTest.openToTheJail(tmp);
        Path dataDir = tmp.resolve("var-lib-tether");
        int port = freePort();
        Path conf = tmp.resolve("tether.conf");
        // docs/configuration.md's example, on a free port and a test data directory.
        Files.writeString(conf, String.join("\n", "# tether.conf", "port = " + port, "data_dir = " + dataDir,
                "idle_timeout = 2h", "python_pool_min_idle = 1", "max_sessions_per_owner = 20", "runtimes = python",
                "access_log = false", ""));
        try (TetherServer server = TetherServer.start(ServerConfig.from(Settings.resolve(Map.of(), Map.of(), conf)))) {
            assertThat(server.url()).endsWith(":" + port);

            Result byFlag = tether(Map.of(), "exec", "--config", conf.toString(), "1+1");
            assertThat(byFlag.exit()).as(byFlag.err()).isZero();
            assertThat(byFlag.out()).isEqualTo("2\n");

            Result byEnv = tether(Map.of("TETHER_CONFIG", conf.toString()), "exec", "6 * 7");
            assertThat(byEnv.exit()).as(byEnv.err()).isZero();
            assertThat(byEnv.out()).isEqualTo("42\n");
            assertThat(tether(Map.of("TETHER_CONFIG", conf.toString()), "stats", "--json").out())
                    .contains("\"total_created\" : 2");

            // Not from the data directory's server.json: the configuration's bind and port.
            String token = Files.readString(dataDir.resolve("admin-token")).strip();
            Result byPort = tether(Map.of("TETHER_TOKEN", token), "exec", "--config", conf.toString(), "--data-dir",
                    tmp.resolve("elsewhere").toString(), "3");
            assertThat(byPort.exit()).as(byPort.err()).isZero();
            assertThat(byPort.out()).isEqualTo("3\n");
        }
    }

    @Test
    void aBadConfigFileIsABadUsageNamingTheFile() throws Exception {
        Path conf = Files.writeString(tmp.resolve("bad.conf"), "colour = blue\n");
        Result r = tether(Map.of(), "exec", "--config", conf.toString(), "1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("bad.conf").contains("colour");
    }

    @Test
    void onEveryInterfaceTheBannerNamesAReachableUrlAndAllowedHostsAndTheCliShowsTheHostChecksAdvice()
            throws Exception {
        Optional<String> address = nonLoopbackAddress();
        assumeTrue(address.isPresent(), "this machine has no non-loopback IPv4 address");
        ServerCliTest.openToTheJail(tmp);
        Path dataDir = tmp.resolve("data");
        StringWriter banner = new StringWriter();
        CountDownLatch stop = new CountDownLatch(1);
        int[] exit = {-1};
        Thread serve = Thread.ofPlatform().start(() -> exit[0] = TetherCli.run(new String[] {"serve", "--bind",
                "0.0.0.0", "--port", "0", "--data-dir", dataDir.toString(), "--runtimes", "",
                "--access-log", "false"}, java.io.InputStream.nullInputStream(), new PrintWriter(banner, true),
                new PrintWriter(new StringWriter(), true), Map.of(), stop));
        try {
            eventually(Duration.ofSeconds(30), "the banner", () -> banner.toString().contains("Stop with Ctrl-C"));
            Matcher m = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)").matcher(banner.toString());
            assertThat(m.find()).as(banner.toString()).isTrue();
            String outside = "http://" + address.get() + ":" + m.group(1);
            assertThat(banner.toString()).contains(outside).contains("allowed_hosts");

            String token = Files.readString(dataDir.resolve("admin-token")).strip();
            Result refused = tether(Map.of(), "stats", "--url", outside, "--token", token);
            assertThat(refused.exit()).as(refused.err()).isEqualTo(2);
            assertThat(refused.err()).startsWith("tether: invalid_request: ").contains("allowed_hosts");
        } finally {
            stop.countDown();
            serve.join();
        }
        assertThat(exit[0]).isZero();
    }

    private static Optional<String> nonLoopbackAddress() throws IOException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (nic.isUp() && !nic.isLoopback()) {
                for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        return Optional.of(a.getHostAddress());
                    }
                }
            }
        }
        return Optional.empty();
    }
}
