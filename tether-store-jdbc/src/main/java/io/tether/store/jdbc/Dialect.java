package io.tether.store.jdbc;

/**
 * Where the SQL of the stores differs between the databases they run on. Everything else
 * (tables, columns, their Java values, the queries) is the same text for both.
 */
public enum Dialect {
    /** SQLite: the scalar {@code MAX(a, b)}, {@code INSERT OR REPLACE}. */
    SQLITE,
    /** PostgreSQL: {@code GREATEST(a, b)}, {@code INSERT … ON CONFLICT … DO UPDATE}. */
    POSTGRESQL;

    /** The larger of {@code column} and the next parameter. */
    String greatest(String column) {
        return switch (this) {
            case SQLITE -> "MAX(" + column + ", ?)";
            case POSTGRESQL -> "GREATEST(" + column + ", ?)";
        };
    }
}
