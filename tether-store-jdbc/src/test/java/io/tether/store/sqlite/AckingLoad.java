package io.tether.store.sqlite;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The skeleton of a crash-test child process: runs a write loop on several threads until
 * it is killed, and prints one acknowledgement line per write that returned. Exits by
 * itself after a deadline, so a parent that dies never leaves it running.
 */
final class AckingLoad {
    /** One thread's endless write loop; calls {@code ack} after each acknowledged write. */
    @FunctionalInterface
    interface Body {
        void run(int thread, int iteration, Acks ack) throws Exception;
    }

    /** Prints acknowledgement lines. */
    @FunctionalInterface
    interface Acks {
        void ack(String line);
    }

    private AckingLoad() {
    }

    static void run(int threads, long deadlineMillis, Body body) throws InterruptedException {
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)),
                false, StandardCharsets.UTF_8);
        // one write per line, so a kill never leaves half a line that looks like an ack
        Acks acks = line -> {
            synchronized (out) {
                out.print(line + "\n");
                out.flush();
            }
        };
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread.ofPlatform().name("load-" + t).daemon(true).start(() -> {
                try {
                    for (int i = 0; ; i++) {
                        body.run(thread, i, acks);
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
}
