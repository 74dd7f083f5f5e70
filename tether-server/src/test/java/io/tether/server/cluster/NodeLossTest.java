package io.tether.server.cluster;

import static io.tether.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.Api;
import io.tether.testing.HostProcesses;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node loss with real nodes on loopback and real Python workers: a node whose lease lapses
 * loses its sessions to the cluster, and kills their workers when it comes back.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NodeLossTest {
    @TempDir
    Path root;

    private static String pythonSession(Api api, String marker) {
        Api.Reply r = api.post("/v1/sessions", Map.of("runtime", "python"));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String id = (String) r.json().get("id");
        Api.Reply made = api.post("/v1/sessions/" + id + "/executions",
                Map.of("code", "open('" + marker + "', 'w').close(); x = 41"));
        assertThat(made.status()).as(made.body()).isEqualTo(200);
        return id;
    }

    private static Api.Reply run(Api api, String id, String code) {
        return api.post("/v1/sessions/" + id + "/executions", Map.of("code", code));
    }

    @Test
    void aLapsedNodesSessionsEndNodeLostAndItKillsTheirWorkersWhenItReturns() throws Exception {
        try (Nodes nodes = new Nodes(root, 2)) {
            Api a = nodes.api(0, nodes.alice);
            Api b = nodes.api(1, nodes.alice);
            String onA = pythonSession(a, "loss-a");
            String onB = pythonSession(b, "loss-b");
            String plainOnA = (String) a.post("/v1/sessions", Map.of("data", Map.of("k", 1))).json().get("id");
            long pidA = Api.interpreterPid(nodes.dirs.get(0), "loss-a");
            long pidB = Api.interpreterPid(nodes.dirs.get(1), "loss-b");

            nodes.advance(Duration.ofSeconds(9));
            nodes.beat(1); // B renews; A's lease still holds
            assertThat(b.get("/v1/sessions/" + onA).json()).containsEntry("status", "active");

            nodes.advance(Duration.ofSeconds(2)); // A's lease (10 s) lapsed; A's heartbeat is stopped
            nodes.beat(1);
            assertThat(b.get("/v1/sessions/" + onA).json()).containsEntry("status", "error")
                    .containsEntry("end_reason", "node_lost");
            assertThat(run(b, onA, "x").code()).isEqualTo("session_ended");
            // B's own session is untouched, and A's plain session now lives on B
            assertThat(run(b, onB, "x + 1").json()).containsEntry("result",
                    Map.of("text/plain", "42", "application/json", 42));
            assertThat(b.get("/v1/sessions/" + plainOnA).json()).containsEntry("status", "active")
                    .containsEntry("node", "node-b");
            assertThat(b.send("PATCH", "/v1/sessions/" + plainOnA, Map.of("data", Map.of("k", 2)), Map.of())
                    .json()).containsEntry("data", Map.of("k", 2));
            assertThat(nodes.registry.find("node-a")).isEmpty();
            assertThat(HostProcesses.running(pidA)).as("A has not noticed yet").isTrue();

            nodes.beat(0); // A comes back: its lease is gone, so it lets the sessions go
            eventually(Duration.ofSeconds(15), "A's worker " + pidA + " is killed", () -> !HostProcesses.running(pidA));
            assertThat(a.get("/v1/sessions/" + onA).json()).containsEntry("end_reason", "node_lost");
            assertThat(nodes.node(0).manager().stats().active()).isZero();
            assertThat(nodes.registry.find("node-a")).hasValueSatisfying(n -> assertThat(n.liveAt(nodes.now.get()))
                    .isTrue());
            assertThat(HostProcesses.running(pidB)).isTrue();
            // A serves again: a new session on it works through B
            String again = pythonSession(a, "loss-a2");
            assertThat(run(b, again, "x + 1").json()).containsEntry("result",
                    Map.of("text/plain", "42", "application/json", 42));
        }
    }

    @Test
    void aRequestForALapsedNodesSessionEndsItAtOnce() {
        try (Nodes nodes = new Nodes(root, 2)) {
            String onA = pythonSession(nodes.api(0, nodes.alice), "lapse-a");
            nodes.advance(Duration.ofSeconds(11));
            Api b = nodes.api(1, nodes.alice);
            assertThat(run(b, onA, "x").code()).isEqualTo("session_ended");
            assertThat(b.get("/v1/sessions/" + onA).json()).containsEntry("end_reason", "node_lost");
        }
    }

    @Test
    void aCleanShutdownEndsItsSessionsAndReleasesItsLeaseAtOnce() {
        try (Nodes nodes = new Nodes(root, 2)) {
            String onA = pythonSession(nodes.api(0, nodes.alice), "bye-a");
            nodes.node(0).close();
            assertThat(nodes.registry.find("node-a")).isEmpty();
            Api b = nodes.api(1, nodes.alice);
            assertThat(b.get("/v1/sessions/" + onA).json()).containsEntry("status", "ended")
                    .containsEntry("end_reason", "server_shutdown");
            assertThat(run(b, onA, "x").code()).isEqualTo("session_ended");
        }
    }

    @Test
    void aNodeThatStopsRenewingLosesItsSessionsWithinTheLeasePlusFiveSeconds() {
        try (Nodes nodes = new Nodes(root, 2, "1s", true)) {
            String onA = pythonSession(nodes.api(0, nodes.alice), "real-a");
            long stopped = System.nanoTime();
            nodes.node(0).nodeLease().orElseThrow().stop(); // as if A hung or died: no more renewals
            Api b = nodes.api(1, nodes.alice);
            // B's own heartbeat finds it; no request to A's session is needed
            eventually(Duration.ofSeconds(6), "A's session ends node_lost", () -> "node_lost".equals(
                    nodes.store.find(onA).map(s -> s.endReason() == null ? null : s.endReason().code()).orElse(null)));
            assertThat(Duration.ofNanos(System.nanoTime() - stopped)).isLessThan(Duration.ofSeconds(6));
            assertThat(run(b, onA, "x").code()).isEqualTo("session_ended");
        }
    }
}
