package io.tether.store.sqlite;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The child process of {@link ManagerCrashTest}: a session manager over SQLite under load
 * from several threads until it is killed. One line per acknowledged operation:
 * {@code C id} (plain session created), {@code P id} (python session created),
 * {@code U id n} (data {@code n} stored), {@code E id} (ended).
 *
 * <p>Arguments: data directory, thread count, deadline in milliseconds after which it
 * exits by itself so a dead parent never leaves it running.
 */
public final class ManagerCrashLoadMain {
    private ManagerCrashLoadMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        long deadlineMillis = Long.parseLong(args[2]);
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)),
                false, StandardCharsets.UTF_8);
        SessionManager manager = SessionManager.builder()
                .store(SqliteSessionStore.builder().dataDirectory(dir).build())
                .reaperInterval(Duration.ZERO).build().start();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread.ofPlatform().name("load-" + t).daemon(true).start(() -> {
                try {
                    for (int i = 0; ; i++) {
                        if (i % 5 == 0) {
                            Session py = manager.create(SessionSpec.builder("py" + thread).runtime("python").build());
                            ack(out, "P " + py.id());
                        }
                        Session s = manager.create(SessionSpec.of("owner" + thread));
                        ack(out, "C " + s.id());
                        manager.touch(s.id());
                        manager.update(s.id(), Map.of("n", i), null);
                        ack(out, "U " + s.id() + " " + i);
                        if (i % 2 == 0) {
                            manager.end(s.id(), EndReason.MANUAL);
                            ack(out, "E " + s.id());
                        }
                    }
                } catch (Throwable e) {
                    e.printStackTrace();
                    System.exit(2);
                }
            });
        }
        Thread.sleep(deadlineMillis);
        System.err.println("deadline passed without being killed");
        System.exit(3);
    }

    private static void ack(PrintStream out, String line) {
        synchronized (out) {
            out.print(line + "\n");
            out.flush();
        }
    }
}
