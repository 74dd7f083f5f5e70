package io.tether.store.sqlite;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionStatus;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * The child process of {@link CrashRecoveryTest}: opens a store and writes from several threads
 * until it is killed, printing one line per acknowledged write: {@code C <id>} once the insert
 * returned, {@code E <id>} once the ending update returned.
 *
 * <p>Arguments: database file, thread count, and a deadline in milliseconds after which it exits
 * by itself, so a parent that dies never leaves it running.
 */
public final class CrashLoadMain {
    private CrashLoadMain() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        long deadlineMillis = Long.parseLong(args[2]);
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)),
                false, StandardCharsets.UTF_8);
        SqliteSessionStore store = SqliteSessionStore.builder().file(file).build();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread.ofPlatform().name("load-" + t).daemon(true).start(() -> {
                try {
                    for (int i = 0; ; i++) {
                        Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
                        Session s = TestSessions.active("w" + thread + "-" + i, "owner" + thread, now);
                        store.insert(s);
                        ack(out, "C " + s.id());
                        store.recordActivity(s.id(), now.plusMillis(1), 1);
                        s = s.withState(Map.of("i", (long) i), Map.of(), now.plusMillis(2));
                        store.update(s);
                        store.update(s.withEnd(SessionStatus.ENDED, EndReason.MANUAL, now.plusMillis(3)));
                        ack(out, "E " + s.id());
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

    /** One write per line, so a kill never leaves half a line that looks like an ack. */
    private static void ack(PrintStream out, String line) {
        synchronized (out) {
            out.print(line + "\n");
            out.flush();
        }
    }
}
