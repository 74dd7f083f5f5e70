package io.tether.server.auth;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Tokens in the PostgreSQL store's {@code tokens} table (created by the store's schema), so
 * every node sharing the database accepts the same tokens and a revocation holds everywhere
 * at the next request. Nothing is cached: each {@link #current()} reads the table (a few
 * rows; the same cost as the file's stat). Changes run in one transaction under an advisory
 * lock, so concurrent creates and revokes on several nodes and the CLI lose nothing.
 */
final class PostgresTokenRecords implements TokenRecords {
    /** Key of the advisory lock changes take; next to the store's own keys ("Teth" + 2). */
    private static final long LOCK = 0x54657468L + 2;
    private static final String SELECT = "SELECT id, owner, admin, created_at, sha256 FROM tokens ORDER BY created_at, id";

    private final DataSource database;
    private final String name;

    /**
     * @param name the database as it may be shown (its URL without password), for messages
     */
    PostgresTokenRecords(DataSource database, String name) {
        this.database = database;
        this.name = name;
    }

    @Override
    public List<TokenFile.Entry> current() {
        try (Connection c = database.getConnection()) {
            return read(c);
        } catch (SQLException e) {
            throw failure("cannot read the tokens", e);
        }
    }

    @Override
    public <T> T change(Change<T> change) {
        try (Connection c = database.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT pg_advisory_xact_lock(" + LOCK + ")");
                }
                List<TokenFile.Entry> stored = read(c);
                Outcome<T> outcome = change.apply(stored);
                if (outcome.entries() != null) {
                    write(c, stored, outcome.entries());
                }
                c.commit();
                return outcome.result();
            } catch (SQLException | IOException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException | IOException e) {
            throw failure("cannot update the tokens", e);
        }
    }

    private static List<TokenFile.Entry> read(Connection c) throws SQLException {
        List<TokenFile.Entry> entries = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(SELECT); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                entries.add(new TokenFile.Entry(new TokenInfo(rs.getString(1), rs.getString(2), rs.getBoolean(3),
                        Instant.ofEpochMilli(rs.getLong(4))), rs.getBytes(5)));
            }
        }
        return List.copyOf(entries);
    }

    /** Deletes the tokens {@code next} no longer has and inserts the ones it adds. */
    private static void write(Connection c, List<TokenFile.Entry> stored, List<TokenFile.Entry> next)
            throws SQLException {
        Set<String> kept = new HashSet<>();
        next.forEach(e -> kept.add(e.info().id()));
        Set<String> had = new HashSet<>();
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM tokens WHERE id = ?")) {
            for (TokenFile.Entry e : stored) {
                had.add(e.info().id());
                if (!kept.contains(e.info().id())) {
                    delete.setString(1, e.info().id());
                    delete.executeUpdate();
                }
            }
        }
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO tokens (id, owner, admin, created_at, sha256) VALUES (?, ?, ?, ?, ?)")) {
            for (TokenFile.Entry e : next) {
                if (!had.contains(e.info().id())) {
                    insert.setString(1, e.info().id());
                    insert.setString(2, e.info().owner());
                    insert.setBoolean(3, e.info().admin());
                    insert.setLong(4, e.info().createdAt().toEpochMilli());
                    insert.setBytes(5, e.sha256());
                    insert.executeUpdate();
                }
            }
        }
    }

    private TetherException failure(String what, Exception e) {
        return new TetherException(ErrorCode.STORE_FAILURE, "PostgreSQL store " + name + ": " + what + ": "
                + e.getMessage(), e);
    }
}
