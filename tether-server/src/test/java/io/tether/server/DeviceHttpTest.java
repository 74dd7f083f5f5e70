package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.auth.TokenStore;
import io.tether.testing.DeviceSim;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Device sessions over HTTP: a server whose config file names the simulated device. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeviceHttpTest {
    @TempDir
    Path dataDir;
    TetherServer server;

    private TetherServer start() throws IOException {
        String address = DeviceSim.address();
        Path conf = dataDir.resolve("tether.conf");
        Files.writeString(conf, "device.sim = " + address.replace("\\", "\\\\") + "\n");
        Api.openToTheJail(dataDir);
        server = TetherServer.start(ServerConfig.from(Settings.resolve(Map.of("port", "0",
                "data_dir", dataDir.resolve("data").toString(), "runtimes", "", "access_log", "false"), Map.of(), conf)));
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aDeviceSessionRunsCodeAndHoldsItsDevice() throws IOException {
        start();
        TokenStore tokens = TokenStore.open(dataDir.resolve("data"));
        Api alice = new Api(server.url(), tokens.create("alice", false).token());
        Api bob = new Api(server.url(), tokens.create("bob", false).token());
        Api admin = new Api(server.url(), tokens.create("ops", true).token());

        Api.Reply created = alice.post("/v1/sessions", Map.of("runtime", "micropython", "device", "sim"));
        assertThat(created.status()).isEqualTo(201);
        String id = (String) created.json().get("id");
        assertThat(created.json().get("key")).isEqualTo("device:sim");

        Api.Reply again = alice.post("/v1/sessions", Map.of("runtime", "micropython", "device", "sim"));
        assertThat(again.json().get("id")).as("get-or-create by device").isEqualTo(id);

        Api.Reply refused = bob.post("/v1/sessions", Map.of("runtime", "micropython", "device", "sim"));
        assertThat(refused.code()).isEqualTo("limit_exceeded");

        assertThat(alice.post("/v1/sessions/" + id + "/executions", Map.of("code", "x = 20")).status()).isEqualTo(200);
        Map<String, Object> run = alice.post("/v1/sessions/" + id + "/executions", Map.of("code", "print(x * 2 + 2)")).json();
        assertThat(run.get("status")).isEqualTo("ok");
        assertThat(run.get("stdout")).isEqualTo("42\n");
        Map<String, Object> failed = alice.post("/v1/sessions/" + id + "/executions", Map.of("code", "import nothing")).json();
        assertThat(failed.get("status")).isEqualTo("error");
        assertThat(((Map<String, Object>) failed.get("error")).get("name")).isEqualTo("ImportError");

        // the session files API maps onto the device's filesystem
        assertThat(alice.send("PUT", "/v1/sessions/" + id + "/files/conf/limits.txt",
                "max=3".getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.of()).status()).isBetween(200, 204);
        Map<String, Object> readBack = alice.post("/v1/sessions/" + id + "/executions",
                Map.of("code", "print(open('conf/limits.txt').read())\nopen('result.txt', 'w').write('done')")).json();
        assertThat(readBack.get("stdout")).isEqualTo("max=3\n");
        assertThat(alice.get("/v1/sessions/" + id + "/files/result.txt").body()).isEqualTo("done");

        List<Map<String, Object>> devices = (List<Map<String, Object>>) alice.get("/v1/devices").json().get("devices");
        assertThat(devices).singleElement().satisfies(d -> {
            assertThat(d).containsEntry("name", "sim").containsEntry("transport", "exec").containsEntry("held", true)
                    .doesNotContainKey("address");
            assertThat((Map<String, Object>) d.get("capabilities")).containsEntry("platform", "webassembly")
                    .containsEntry("raw_paste", false);
        });
        List<Map<String, Object>> seenByAdmin = (List<Map<String, Object>>) admin.get("/v1/devices").json().get("devices");
        assertThat((String) seenByAdmin.get(0).get("address")).startsWith("exec:");

        assertThat(alice.send("DELETE", "/v1/sessions/" + id, null, Map.of()).status()).isEqualTo(200);
        assertThat(bob.post("/v1/sessions", Map.of("runtime", "micropython", "device", "sim")).status()).isEqualTo(201);
    }

    @Test
    void badDeviceRequestsAreClearErrors() throws IOException {
        start();
        Api alice = new Api(server.url(), TokenStore.open(dataDir.resolve("data")).create("alice", false).token());
        Api.Reply unknown = alice.post("/v1/sessions", Map.of("runtime", "micropython", "device", "nope"));
        assertThat(unknown.code()).isEqualTo("invalid_request");
        assertThat(unknown.body()).contains("no device 'nope'").contains("sim");
        Api.Reply wrongRuntime = alice.post("/v1/sessions", Map.of("runtime", "none", "device", "sim"));
        assertThat(wrongRuntime.code()).isEqualTo("invalid_request");
        assertThat(wrongRuntime.body()).contains("drives no devices");
        assertThat(alice.get("/v1/sessions").json().get("items")).asList().isEmpty();
    }
}
