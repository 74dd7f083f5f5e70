package io.tether.store.postgres;

import io.tether.store.SessionStore;
import io.tether.store.SessionStoreContract;
import io.tether.testing.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;

/** The store contract against a real PostgreSQL; each test starts from emptied tables. */
class PostgresSessionStoreContractTest extends SessionStoreContract {
    private static PostgresServer server;
    private static String database;

    @BeforeAll
    static void database() {
        server = PostgresServer.shared();
        database = server.createDatabase(PostgresSessionStoreContractTest.class.getSimpleName());
    }

    @Override
    protected SessionStore openEmpty() {
        SessionStore opened = PostgresSessionStore.builder()
                .url(PostgresUrl.parse(server.url(database)))
                .activityFlushInterval(Duration.ofHours(1))
                .maximumPoolSize(4)
                .build();
        try (Connection c = server.connect(database); Statement s = c.createStatement()) {
            s.execute("TRUNCATE sessions, executions");
        } catch (SQLException e) {
            opened.close();
            throw new IllegalStateException(e);
        }
        return opened;
    }
}
