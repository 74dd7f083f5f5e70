package io.tether.store.jdbc;

import java.sql.SQLException;
import java.util.List;

/**
 * A store's schema history, shared by the SQLite and PostgreSQL stores: an ordered,
 * append-only list of steps, each taking the schema from one version to the next. Each store
 * keeps the version where its database allows (SQLite's {@code user_version}, PostgreSQL's
 * {@code tether_schema} table) and runs the steps in its transactions; this class holds the
 * steps and decides which to run.
 *
 * <p>A released step is never edited; a change is a new step. Immutable.
 */
public final class SchemaHistory {
    /** One step: the statements that take the schema from {@code version - 1} to {@code version}. */
    public record Step(int version, String description, List<String> statements) {
        public Step {
            statements = List.copyOf(statements);
        }
    }

    private final List<Step> steps;

    /** @throws IllegalArgumentException when the steps are not numbered 1, 2, 3… */
    public SchemaHistory(List<Step> steps) {
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).version() != i + 1) {
                throw new IllegalArgumentException("migration steps must be numbered 1, 2, 3…; step "
                        + (i + 1) + " says " + steps.get(i).version());
            }
        }
        this.steps = List.copyOf(steps);
    }

    /** The first {@code version} steps only: the schema as an older Tether made it, to test upgrades. */
    public SchemaHistory upTo(int version) {
        return new SchemaHistory(steps.subList(0, version));
    }

    /** The version a database has once every step ran. */
    public int latest() {
        return steps.size();
    }

    /**
     * The steps a database at version {@code found} still needs, oldest first.
     *
     * @param what the database as messages call it, e.g. "the file"
     * @throws SQLException when {@code found} is newer than this code knows
     */
    public List<Step> after(int found, String what) throws SQLException {
        if (found > latest()) {
            throw new SQLException(what + " has schema version " + found + " but this Tether knows versions up to "
                    + latest() + "; it was written by a newer Tether. Upgrade Tether, or use another "
                    + (what.contains("file") ? "file" : "database"));
        }
        return steps.subList(found, steps.size());
    }
}
