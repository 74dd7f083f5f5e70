package io.tether.cli;

import io.tether.runtime.python.PythonRuntime;
import io.tether.session.SessionManager;
import io.tether.session.SessionManagerBuilder;
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
        return open(dataDir, false);
    }

    /**
     * @param python whether sessions may have a live Python worker (the demo's); the CLI's
     *     own commands manage plain sessions only, since a worker would die with the command
     */
    static SessionManager open(Path dataDir, boolean python) {
        SqliteSessionStore store = SqliteSessionStore.builder().dataDirectory(dataDir).build();
        try {
            SessionManagerBuilder b = SessionManager.builder().store(store).reaperInterval(Duration.ZERO);
            if (python) {
                b.runtime(PythonRuntime.builder().workRoot(dataDir.resolve("work")).build());
            }
            return b.build().start();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }
}
