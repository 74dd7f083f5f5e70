package io.tether.cli;

import io.tether.session.SessionManager;
import io.tether.store.sqlite.SqliteSessionStore;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A session manager over the embedded SQLite store in a data directory, for one CLI
 * command. No reaper runs: a command is short, and expired sessions are ended as soon as
 * a command meets them.
 */
final class EmbeddedTether {
    private EmbeddedTether() {
    }

    static SessionManager open(Path dataDir) {
        SqliteSessionStore store = SqliteSessionStore.builder().dataDirectory(dataDir).build();
        try {
            return SessionManager.builder().store(store).reaperInterval(Duration.ZERO).build().start();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }
}
