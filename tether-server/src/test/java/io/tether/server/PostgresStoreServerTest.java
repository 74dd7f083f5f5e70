package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.server.auth.TokenStore;
import io.tether.store.postgres.PostgresSessionStore;
import io.tether.store.postgres.PostgresUrl;
import io.tether.testing.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real servers (two nodes) on one real PostgreSQL store: sessions, tokens and limits are
 * the database's, and the store's password shows nowhere.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PostgresStoreServerTest {
    private static final String SECRET = "pw-9f2c1e-never-shown";

    @TempDir
    Path dirA;
    @TempDir
    Path dirB;

    private static TetherServer node(PostgresServer pg, String database, Path dataDir, Map<String, String> env) {
        return node(pg, database, dataDir, env, Map.of());
    }

    private static TetherServer node(PostgresServer pg, String database, Path dataDir, Map<String, String> env,
                                     Map<String, String> more) {
        Api.openToTheJail(dataDir);
        Map<String, String> flags = new HashMap<>(Map.of("port", "0", "data_dir", dataDir.toString(),
                "runtimes", "", "python_pool_min_idle", "0", "jshell_pool_min_idle", "0", "access_log", "true",
                "store", "postgresql", "store_url", pg.url(database), "max_sessions_per_owner", "2"));
        flags.putAll(more);
        return TetherServer.start(ServerConfig.from(Settings.resolve(flags, env, null)));
    }

    @Test
    void twoNodesShareSessionsTokensAndLimitsAndNeverShowThePassword() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String database = pg.createDatabase("two_nodes");
        Map<String, String> env = Map.of(Settings.STORE_PASSWORD_ENV, SECRET);
        PrintStream originalErr = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        StringWriter banners = new StringWriter();
        List<String> stats;
        try (TetherServer a = node(pg, database, dirA, env); TetherServer b = node(pg, database, dirB, env)) {
            a.printBanner(new PrintWriter(banners, true));
            b.printBanner(new PrintWriter(banners, true));
            // The first node created the admin token; the second found one in the database.
            assertThat(dirA.resolve("admin-token")).exists();
            assertThat(dirB.resolve("admin-token")).doesNotExist();
            String adminToken = Files.readString(dirA.resolve("admin-token")).trim();

            String aliceToken;
            String bobToken;
            try (PostgresSessionStore store = PostgresSessionStore.builder()
                    .url(PostgresUrl.parse(pg.url(database))).maximumPoolSize(1).build()) {
                TokenStore tokens = TokenStore.inDatabase(store.dataSource(), "test", dirA);
                aliceToken = tokens.create("alice", false).token();
                bobToken = tokens.create("bob", false).token();
            }
            Api aliceOnA = new Api(a.url(), aliceToken);
            Api aliceOnB = new Api(b.url(), aliceToken);

            Api.Reply created = aliceOnA.post("/v1/sessions", Map.of());
            assertThat(created.status()).isEqualTo(201);
            String id = created.header("Tether-Session");
            assertThat(aliceOnB.get("/v1/sessions/" + id).status()).isEqualTo(200);
            assertThat(aliceOnB.post("/v1/sessions", Map.of()).status()).isEqualTo(201);
            assertThat((List<?>) aliceOnB.get("/v1/sessions").json().get("items")).hasSize(2);
            assertThat((List<?>) aliceOnA.get("/v1/sessions").json().get("items")).hasSize(2);

            // Each node has counted one of alice's sessions; the database counts both.
            Api.Reply third = aliceOnA.post("/v1/sessions", Map.of());
            assertThat(third.status()).isEqualTo(429);
            assertThat(third.code()).isEqualTo("limit_exceeded");
            assertThat(third.body()).contains("across every node");

            assertThat(new Api(a.url(), bobToken).get("/v1/sessions/" + id).status()).isEqualTo(404);
            assertThat(new Api(b.url(), bobToken).get("/v1/sessions/" + id).status()).isEqualTo(404);

            stats = List.of(new Api(a.url(), adminToken).get("/v1/stats").body(),
                    new Api(b.url(), adminToken).get("/v1/stats").body(), aliceOnB.get("/v1/stats").body());
        } finally {
            System.setErr(originalErr);
        }
        String everythingShown = log.toString(StandardCharsets.UTF_8) + banners + String.join("\n", stats);
        assertThat(banners.toString()).contains("store: postgresql postgresql://postgres@127.0.0.1:" + pg.port())
                .contains("token create --owner NAME --store-url postgresql://postgres@127.0.0.1:" + pg.port());
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("POST /v1/sessions 201");
        assertThat(everythingShown).doesNotContain(SECRET);
    }

    @Test
    void aServerStartingOnTheDatabaseLeavesAnotherServersLiveSessionsAlone() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String database = pg.createDatabase("second_start");
        Map<String, String> python = Map.of("runtimes", "python", "python_pool_min_idle", "1", "access_log", "false");
        try (TetherServer a = node(pg, database, dirA, Map.of(), python)) {
            Api admin = new Api(a.url(), Files.readString(dirA.resolve("admin-token")).trim());
            Api.Reply created = admin.post("/v1/sessions", Map.of("runtime", "python"));
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            String id = created.header("Tether-Session");
            assertThat(admin.post("/v1/sessions/" + id + "/executions", Map.of("code", "x = 1")).status())
                    .isEqualTo(200);

            try (TetherServer b = node(pg, database, dirB, Map.of(), Map.of());
                    java.sql.Connection c = pg.connect(database);
                    java.sql.PreparedStatement ps = c.prepareStatement("SELECT status FROM sessions WHERE id = ?")) {
                ps.setString(1, id);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).as("the session in the database after the second start")
                            .isEqualTo("active");
                }
                Api.Reply next = admin.post("/v1/sessions/" + id + "/executions", Map.of("code", "x + 1"));
                assertThat(next.status()).as(next.body()).isEqualTo(200);
                assertThat(next.body()).contains("\"text/plain\":\"2\"");
            }
        }
    }

    @Test
    void aBadStoreSettingFailsTheStartWithoutQuotingThePassword() {
        Map<String, String> flags = Map.of("data_dir", dirA.toString(), "store", "postgresql",
                "store_url", "postgresql://tether:" + SECRET + "@db.internal:notaport/tether");
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(flags, Map.of(), null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("store_url")
                .message().doesNotContain(SECRET);

        Map<String, String> twice = Map.of("data_dir", dirA.toString(), "store", "postgresql",
                "store_url", "postgresql://tether:" + SECRET + "@db.internal/tether");
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(twice, Map.of(Settings.STORE_PASSWORD_ENV, "x"),
                null))).hasMessageContaining("give it one way").message().doesNotContain(SECRET);

        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("store", "postgresql"), Map.of(), null)))
                .hasMessageContaining("store = postgresql needs setting store_url");
        assertThatThrownBy(() -> ServerConfig.from(Settings.resolve(Map.of("store_url", "postgresql://h/db"),
                Map.of(), null))).hasMessageContaining("only for store = postgresql");
    }

    @Test
    void thePasswordFileGivesThePassword() throws Exception {
        Path file = dirA.resolve("pg-password");
        Files.writeString(file, SECRET + "\nignored second line\n");
        ServerConfig config = ServerConfig.from(Settings.resolve(Map.of("data_dir", dirB.toString(),
                "store", "postgresql", "store_url", "postgresql://tether@db.internal:5432/tether",
                "store_password_file", file.toString()), Map.of(), null));

        assertThat(config.storeUrl().password()).isEqualTo(SECRET);
        assertThat(config.storeUrl().user()).isEqualTo("tether");
        assertThat(config.toString()).doesNotContain(SECRET);
    }
}
