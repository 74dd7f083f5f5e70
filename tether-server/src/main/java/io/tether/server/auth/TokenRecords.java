package io.tether.server.auth;

import java.io.IOException;
import java.util.List;

/**
 * Where a {@link TokenStore} keeps its tokens: the data directory's {@code tokens.json}
 * ({@link FileTokenRecords}) or the PostgreSQL store's {@code tokens} table
 * ({@link PostgresTokenRecords}), which every node sharing the database sees.
 *
 * <p>Implementations are thread-safe, see changes made by other instances and processes at
 * the next {@link #current()}, and throw {@link io.tether.TetherException}
 * {@code store_failure} when the storage fails.
 */
interface TokenRecords {
    /** A change's outcome: the tokens to store ({@code null} for no change) and the caller's result. */
    record Outcome<T>(List<TokenFile.Entry> entries, T result) {
    }

    /** A read-change-write of the stored tokens. */
    interface Change<T> {
        Outcome<T> apply(List<TokenFile.Entry> stored) throws IOException;
    }

    /** Every stored token, as last written by anyone. */
    List<TokenFile.Entry> current();

    /**
     * Runs {@code change} on the stored tokens while no other change, by this instance or
     * another, runs, and stores what it returns.
     */
    <T> T change(Change<T> change);
}
