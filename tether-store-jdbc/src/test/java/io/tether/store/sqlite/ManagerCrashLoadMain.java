package io.tether.store.sqlite;

import io.tether.session.EchoRuntime;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The child process of {@link ManagerCrashTest}: a session manager over SQLite under load
 * from several threads until it is killed. One line per acknowledged operation:
 * {@code C id} (plain session created), {@code P id} (session with a worker created; it then
 * executes {@code P id} so execution history is written behind meanwhile), {@code U id n}
 * (data {@code n} stored), {@code E id} (ended).
 *
 * <p>Arguments: data directory, thread count, deadline in milliseconds after which it
 * exits by itself so a dead parent never leaves it running.
 */
public final class ManagerCrashLoadMain {
    private ManagerCrashLoadMain() {
    }

    public static void main(String[] args) throws Exception {
        SessionManager manager = SessionManager.builder()
                .store(SqliteSessionStore.builder().dataDirectory(Path.of(args[0])).build())
                .runtime(new EchoRuntime(Path.of(args[0]).resolve("work"))).reaperInterval(Duration.ZERO).build().start();
        AckingLoad.run(Integer.parseInt(args[1]), Long.parseLong(args[2]), (thread, i, acks) -> {
            if (i % 5 == 0) {
                Session py = manager.create(SessionSpec.builder("py" + thread).runtime("echo").build());
                acks.ack("P " + py.id());
                manager.execute(py.id(), "P " + py.id(), null, null);
            }
            Session s = manager.create(SessionSpec.of("owner" + thread));
            acks.ack("C " + s.id());
            manager.touch(s.id());
            manager.update(s.id(), Map.of("n", i), null);
            acks.ack("U " + s.id() + " " + i);
            if (i % 2 == 0) {
                manager.end(s.id(), EndReason.MANUAL);
                acks.ack("E " + s.id());
            }
        });
    }
}
