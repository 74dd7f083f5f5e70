package io.tether.session;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a pass over the live sessions in the background, every interval (counted from the end
 * of the previous pass), on one daemon thread of its own: the reaper
 * ({@code tether-session-reaper}) ends expired sessions, the limit watch
 * ({@code tether-limit-watch}) kills workers past their disk quota or CPU time. A
 * failing pass is logged and the next pass runs anyway.
 */
final class SessionReaper {
    private static final Logger log = LoggerFactory.getLogger(SessionReaper.class);

    private final ScheduledExecutorService executor;
    private volatile Thread thread;

    /**
     * @param name  the thread's name, also in log lines
     * @param pass  one pass; returns how many sessions it acted on
     */
    SessionReaper(String name, IntSupplier pass, Duration interval) {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            thread = t;
            return t;
        });
        long nanos = interval.toNanos();
        executor.scheduleWithFixedDelay(() -> {
            try {
                int n = pass.getAsInt();
                if (n > 0) {
                    log.debug("{} acted on {} sessions", name, n);
                }
            } catch (RuntimeException e) {
                log.warn("{} pass failed; the next pass runs in {}", name, interval, e);
            }
        }, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** Stops the reaper, waits for a pass in progress to finish and for its thread to end. */
    void stop() {
        executor.shutdown();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
            // the executor reports termination while its last thread is still on its way out
            Thread t = thread;
            if (t != null) {
                t.join(TimeUnit.SECONDS.toMillis(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
