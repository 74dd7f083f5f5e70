package io.tether.store.sqlite;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import io.tether.store.SessionStore;
import io.tether.store.postgres.PostgresSessionStore;
import io.tether.store.postgres.PostgresUrl;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * The child process of {@link CrashRecoveryTest}: opens a store and writes from several threads
 * until it is killed, printing one line per acknowledged write: {@code C <id>} once the insert
 * returned, {@code E <id>} once the ending update returned.
 *
 * <p>Arguments: database file (or a {@code postgresql://} URL: the PostgreSQL store, with a
 * session limit so creations take its limits path), thread count, and a deadline in
 * milliseconds after which it exits by itself, so a parent that dies never leaves it running.
 */
public final class CrashLoadMain {
    private CrashLoadMain() {
    }

    public static void main(String[] args) throws Exception {
        SessionStore store = args[0].startsWith("postgresql://")
                ? PostgresSessionStore.builder().url(PostgresUrl.parse(args[0])).maxSessions(1_000_000).build()
                : SqliteSessionStore.builder().file(Path.of(args[0])).build();
        AckingLoad.run(Integer.parseInt(args[1]), Long.parseLong(args[2]), (thread, i, acks) -> {
            Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
            Session s = TestSessions.active("w" + thread + "-" + i, "owner" + thread, now);
            store.insert(s);
            acks.ack("C " + s.id());
            store.recordActivity(s.id(), now.plusMillis(1), 1);
            s = s.withState(Map.of("i", (long) i), Map.of(), now.plusMillis(2));
            store.update(s);
            store.update(s.withEnd(SessionStatus.ENDED, EndReason.MANUAL, now.plusMillis(3)));
            acks.ack("E " + s.id());
        });
    }
}
