package io.tether.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.server.auth.Principal;
import io.tether.server.auth.TokenStore;
import io.tether.store.postgres.PostgresSessionStore;
import io.tether.store.postgres.PostgresUrl;
import io.tether.testing.PostgresServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tether token … --store-url}: the tokens of a real PostgreSQL store, which every node shares. */
class TokenCommandPostgresTest {
    private static PostgresServer pg;
    private static String database;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void database() {
        pg = PostgresServer.shared();
        database = pg.createDatabase(TokenCommandPostgresTest.class.getSimpleName());
    }

    private String[] tether(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = TetherCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new String[] {String.valueOf(exit), out.toString(), err.toString()};
    }

    private TokenStore databaseTokens(PostgresSessionStore store) {
        return TokenStore.inDatabase(store.dataSource(), "test", dataDir);
    }

    @Test
    void createLsAndRevokeWorkOnTheDatabaseAndNotOnTheDataDirectory() {
        Map<String, String> env = Map.of("TETHER_DATA_DIR", dataDir.toString(), "TETHER_STORE_PASSWORD", "unused-pw");
        String[] created = tether(env, "token", "create", "--owner", "alice", "--store-url", pg.url(database));
        assertThat(created[0]).as(created[2]).isEqualTo("0");
        String token = created[1].strip().substring(created[1].strip().lastIndexOf(' ') + 1);
        String id = created[1].split(" ")[2];

        try (PostgresSessionStore store = PostgresSessionStore.builder().url(PostgresUrl.parse(pg.url(database)))
                .maximumPoolSize(1).build()) {
            assertThat(databaseTokens(store).authenticate(token)).contains(new Principal("alice", false));
            assertThat(Files.exists(dataDir.resolve("tokens.json"))).isFalse();

            // The configuration's store, with no flag: TETHER_STORE and TETHER_STORE_URL.
            Map<String, String> configured = Map.of("TETHER_DATA_DIR", dataDir.toString(), "TETHER_STORE", "postgresql",
                    "TETHER_STORE_URL", pg.url(database));
            String[] ls = tether(configured, "token", "ls");
            assertThat(ls[1]).contains(id).contains("alice").doesNotContain(token);

            String[] revoked = tether(configured, "token", "revoke", id);
            assertThat(revoked[0]).as(revoked[2]).isEqualTo("0");
            assertThat(databaseTokens(store).authenticate(token)).isEmpty();
        }
    }

    @Test
    void anUnreachableStoreFailsWithoutShowingThePassword() {
        String[] r = tether(Map.of("TETHER_DATA_DIR", dataDir.toString()), "token", "create", "--owner", "alice",
                "--store-url", "postgresql://tether:pw-0x5eed@127.0.0.1:1/tether");
        assertThat(r[0]).isNotEqualTo("0");
        assertThat(r[2]).contains("postgresql://tether@127.0.0.1:1/tether").doesNotContain("pw-0x5eed");
    }
}
