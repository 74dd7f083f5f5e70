package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.runtime.sandbox.Sandbox;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The data directory a server makes and keeps: private modes, and nothing at all when it cannot start. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DataDirectoryTest {
    @TempDir
    Path parent;

    private static boolean root() throws Exception {
        return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static TetherServer start(Path data, Map<String, String> more) {
        Map<String, String> flags = new HashMap<>(Map.of("port", "0", "data_dir", data.toString(),
                "runtimes", "python", "python_pool_min_idle", "0"));
        flags.putAll(more);
        return TetherServer.start(ServerConfig.from(Settings.resolve(flags, Map.of(), null)));
    }

    @Test
    void aNewDataDirectoryIsClosedToOthersAndItsSecretsAreOwnerOnly() throws Exception {
        Api.openToTheJail(parent);
        Path data = parent.resolve("data");
        TetherServer server = start(data, Map.of());
        try {
            Api api = new Api(server.url(), Files.readString(data.resolve("admin-token")).trim());
            assertThat(api.post("/v1/execute", Map.of("code", "1 + 1")).json()).containsEntry("status", "ok");
            // The jail's user must still pass through to the work root when Tether runs as root.
            String expected = root() ? "rwx--x--x" : "rwx------";
            assertThat(mode(data)).isEqualTo(expected);
            if (root()) {
                assertThat(server.sandbox().has(Sandbox.Layer.JAIL)).as(server.sandbox().summary()).isTrue();
            }
            for (String secret : List.of("admin-token", "tokens.json", "tokens.lock", "tether.db", "tether.db-wal",
                    "tether.db-shm", "tether.db.lock", "server.json")) {
                assertThat(data.resolve(secret)).exists();
                assertThat(mode(data.resolve(secret))).as(secret).isEqualTo("rw-------");
            }
            StringWriter banner = new StringWriter();
            server.printBanner(new PrintWriter(banner));
            assertThat(banner.toString()).doesNotContain("WARNING: the data directory");
        } finally {
            server.close();
        }
    }

    @Test
    void anOpenDataDirectoryIsWarnedAboutAndWiderSecretsAreClosed() throws Exception {
        Api.openToTheJail(parent);
        Path data = Files.createDirectory(parent.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        start(data, Map.of()).close();
        Files.setPosixFilePermissions(data.resolve("tether.db"), PosixFilePermissions.fromString("rw-r--r--"));

        TetherServer server = start(data, Map.of());
        try {
            StringWriter banner = new StringWriter();
            server.printBanner(new PrintWriter(banner));
            assertThat(banner.toString()).contains("WARNING: the data directory " + data + " is rwxr-xr-x");
            assertThat(mode(data)).isEqualTo("rwxr-xr-x");
            assertThat(mode(data.resolve("tether.db"))).isEqualTo("rw-------");
        } finally {
            server.close();
        }
    }

    @Test
    void aTakenPortLeavesNothingBehind() throws Exception {
        Path data = parent.resolve("data");
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> start(data, Map.of("port", Integer.toString(taken.getLocalPort()))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot listen on");
        }
        assertThat(data).doesNotExist();

        Path existing = Files.createDirectory(parent.resolve("existing"));
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> start(existing, Map.of("port", Integer.toString(taken.getLocalPort()))))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        try (var left = Files.list(existing)) {
            assertThat(left).isEmpty();
        }
    }
}
