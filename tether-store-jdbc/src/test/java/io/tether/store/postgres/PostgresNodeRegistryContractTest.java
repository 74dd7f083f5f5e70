package io.tether.store.postgres;

import io.tether.node.NodeRegistry;
import io.tether.node.NodeRegistryContract;
import io.tether.testing.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;

/** The registry contract against a real PostgreSQL; each test starts from an emptied table. */
class PostgresNodeRegistryContractTest extends NodeRegistryContract {
    private static PostgresServer server;
    private static String database;

    @BeforeAll
    static void database() {
        server = PostgresServer.shared();
        database = server.createDatabase(PostgresNodeRegistryContractTest.class.getSimpleName());
    }

    @Override
    protected NodeRegistry openEmpty() {
        PostgresNodeRegistry opened = PostgresNodeRegistry.open(PostgresUrl.parse(server.url(database)),
                Duration.ofSeconds(10));
        try (Connection c = server.connect(database); Statement s = c.createStatement()) {
            s.execute("TRUNCATE tether_nodes");
        } catch (SQLException e) {
            opened.close();
            throw new IllegalStateException(e);
        }
        return opened;
    }
}
