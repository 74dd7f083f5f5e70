package io.tether.session;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends expired sessions in the background, every interval, on one daemon thread named
 * {@code tether-session-reaper}. A failing pass is logged and the next pass runs anyway.
 */
final class SessionReaper {
    private static final Logger log = LoggerFactory.getLogger(SessionReaper.class);

    private final ScheduledExecutorService executor;
    private volatile Thread thread;

    SessionReaper(IntSupplier reapExpired, Duration interval) {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tether-session-reaper");
            t.setDaemon(true);
            thread = t;
            return t;
        });
        long nanos = interval.toNanos();
        executor.scheduleWithFixedDelay(() -> {
            try {
                int n = reapExpired.getAsInt();
                if (n > 0) {
                    log.debug("reaper ended {} expired sessions", n);
                }
            } catch (RuntimeException e) {
                log.warn("reaper pass failed; the next pass runs in {}", interval, e);
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
