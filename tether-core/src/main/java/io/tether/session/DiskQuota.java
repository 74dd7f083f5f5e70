package io.tether.session;

import io.tether.runtime.DirectoryUsage;
import io.tether.runtime.WorkerOptions;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk quota of a manager's workers ({@link WorkerOptions.WorkerLimits#diskQuotaBytes}):
 * measures working directories and, when one holds more than the quota, says how its worker
 * dies. A directory that cannot be measured (part of it made unreadable, directories moved
 * about during every attempt, a measurement still running after {@link #MEASURE_TIMEOUT})
 * counts as over the quota: a quota that can be dodged is none.
 *
 * <p>Measurements run on daemon threads of their own ({@code tether-disk-usage}), never on
 * the caller's: the code being measured can make a directory open block (see
 * {@code DescriptorWalk}), and a blocked call must neither hold the thread of an HTTP request
 * (a virtual thread would pin its carrier) nor stop the checks of other sessions. The caller
 * waits at most {@link #MEASURE_TIMEOUT}; a measuring thread that stays blocked is abandoned
 * (and logged).
 *
 * <p>Thread-safe.
 */
final class DiskQuota {
    /** How long a measurement may take before the directory counts as over its quota. */
    static final Duration MEASURE_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How much older than a measurement an empty directory's change time must be for the
     * next check to trust it: file times are coarse, and a change in the same tick as the
     * last one leaves the time as it was.
     */
    private static final Duration SETTLED = Duration.ofSeconds(1);
    private static final boolean CHANGE_TIMES = FileSystems.getDefault().supportedFileAttributeViews()
            .contains("unix");
    private static final Logger log = LoggerFactory.getLogger(DiskQuota.class);
    private static final String[] UNITS = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Shared by every manager; idle threads end after a minute. */
    private static final ExecutorService MEASURER = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "tether-disk-usage-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    /** A directory with more entries than this has its measurements spaced out (see {@link Directory#check}). */
    static final long SPACED_ENTRIES = 256;
    /** How many times its last measurement's duration must pass before a costly directory is measured again. */
    static final int SPACING = 20;

    private final long bytes;
    private final InstantSource fileClock;
    private final Duration measureTimeout;
    private final LongSupplier nanos;

    /** A quota of {@code bytes} (0 = none). */
    DiskQuota(long bytes) {
        this(bytes, InstantSource.system(), MEASURE_TIMEOUT, System::nanoTime);
    }

    /**
     * @param fileClock      the clock file times are compared with: the system clock,
     *                       whatever clock the manager uses for sessions
     * @param measureTimeout how long a measurement may take
     * @param nanos          the clock measurements are timed and spaced with ({@link System#nanoTime})
     */
    DiskQuota(long bytes, InstantSource fileClock, Duration measureTimeout, LongSupplier nanos) {
        if (bytes < 0) {
            throw new IllegalArgumentException("disk quota must be ≥ 0, got " + bytes);
        }
        this.bytes = bytes;
        this.fileClock = fileClock;
        this.measureTimeout = measureTimeout;
        this.nanos = nanos;
    }

    long bytes() {
        return bytes;
    }

    /** The quota's checks of one working directory. */
    Directory directory(Path dir) {
        return new Directory(dir);
    }

    /**
     * The checks of one working directory. Remembers when a measurement found it empty: as
     * long as its change time stays what it was then (adding or removing an entry changes it,
     * and code cannot set it back), it is still empty and is not measured again. That makes
     * the check after an execution one {@code stat} for the many sessions that write no files.
     *
     * <p>A directory last found with more than {@link #SPACED_ENTRIES} entries (files and
     * directories; each costs a few microseconds to measure) is measured again only once
     * {@link #SPACING} times as long as that measurement took has passed since it began;
     * checks before then trust it. A count, not the time alone, decides which directories are
     * spaced, so that a small directory is measured after every execution however loaded the
     * machine. Walking 20,000 files after every execution made each one cost over 100 ms,
     * and the periodic check of such a directory kept a core busy; spaced, a directory's
     * checks take at most 1/20 of the time. What is written meanwhile counts at the next
     * measurement, as between two periodic checks.
     */
    final class Directory {
        private final Path dir;
        private volatile FileTime emptyAt; // its change time when last found empty and settled, else null
        private volatile long measuredAt;  // nanos when the last measurement began
        private volatile long spacing;     // nanos after measuredAt before the next; 0 for cheap directories

        private Directory(Path dir) {
            this.dir = dir;
        }

        /**
         * Measures the directory (off this thread; this thread waits).
         *
         * @return {@code null} when it is within the quota, when there is no quota, or when it
         *     is gone (its worker was closed); otherwise how its worker dies
         */
        WorkerDeath check() {
            if (bytes == 0) {
                return null;
            }
            long begun = nanos.getAsLong();
            if (spacing > 0 && begun - measuredAt < spacing) {
                return null; // the last measurement was within the quota: past it, the worker is dead
            }
            FileTime changed = changeTime();
            if (changed != null && changed.equals(emptyAt)) {
                return null;
            }
            Instant started = fileClock.instant();
            DirectoryUsage usage;
            try {
                usage = measure();
                long took = nanos.getAsLong() - begun;
                measuredAt = begun;
                spacing = usage.files() + usage.directories() > SPACED_ENTRIES ? took * SPACING : 0;
            } catch (IOException e) {
                if (Files.notExists(dir, LinkOption.NOFOLLOW_LINKS)) {
                    return null; // its worker was closed and took the directory with it
                }
                log.warn("cannot measure working directory {}; its worker is killed", dir, e);
                return unmeasurable("cannot be measured (" + e.getMessage() + ")");
            } catch (TimeoutException e) {
                log.warn("measuring working directory {} took longer than {}; its worker is killed (the measuring "
                        + "thread may stay blocked, e.g. opening a FIFO put where a directory was)", dir,
                        measureTimeout);
                return unmeasurable("could not be measured within " + (measureTimeout.toMillis() % 1000 == 0
                        ? measureTimeout.toSeconds() + " s" : measureTimeout.toMillis() + " ms"));
            }
            boolean empty = usage.files() == 0 && usage.directories() == 0;
            emptyAt = empty && changed != null && changed.toInstant().isBefore(started.minus(SETTLED))
                    && usage.bytes() <= bytes ? changed : null;
            return usage.bytes() <= bytes ? null : exceeded(usage);
        }

        /**
         * How many bytes the directory can still take before it passes the quota: measured
         * now (off this thread; this thread waits), 0 when it is over or cannot be measured,
         * {@link Long#MAX_VALUE} when there is no quota.
         */
        long room() {
            if (bytes == 0) {
                return Long.MAX_VALUE;
            }
            try {
                return Math.max(0, bytes - measure().bytes());
            } catch (IOException | TimeoutException e) {
                return 0;
            }
        }

        /** The directory's change time ({@code st_ctime}), or {@code null} when unknown. */
        private FileTime changeTime() {
            if (!CHANGE_TIMES) {
                return null;
            }
            try {
                return (FileTime) Files.getAttribute(dir, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                return null; // gone or unreadable: measure() says which
            }
        }

        private DirectoryUsage measure() throws IOException, TimeoutException {
            Future<DirectoryUsage> f = MEASURER.submit(() -> DirectoryUsage.measure(dir));
            long deadline = System.nanoTime() + measureTimeout.toNanos();
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return f.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        interrupted = true; // a check is not given up halfway; the flag is kept
                    }
                }
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException("measuring " + dir + " failed", e.getCause());
            } catch (TimeoutException e) {
                f.cancel(true);
                throw e;
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private WorkerDeath exceeded(DirectoryUsage usage) {
        String held = size(usage.bytes());
        String quota = size(bytes);
        if (held.equals(quota)) {
            held = exact(usage.bytes());
            quota = exact(bytes);
        }
        return WorkerDeath.diskQuotaExceeded("the session's working directory holds " + held + " in "
                + usage.files() + (usage.files() == 1 ? " file" : " files") + ", its quota is " + quota);
    }

    private WorkerDeath unmeasurable(String what) {
        return WorkerDeath.diskQuotaExceeded("the session's working directory " + what + ", so its quota of "
                + size(bytes) + " cannot be enforced");
    }

    /** {@code 5 MiB}, {@code 1.25 GiB}, {@code 300 bytes}: two decimals at most. */
    static String size(long n) {
        if (n < 1024) {
            return n + " bytes";
        }
        int unit = (63 - Long.numberOfLeadingZeros(n)) / 10;
        String number = String.format(Locale.ROOT, "%.2f", n / (double) (1L << (10 * unit)))
                .replaceAll("\\.?0+$", "");
        return number + " " + UNITS[unit];
    }

    private static String exact(long n) {
        return String.format(Locale.ROOT, "%,d bytes", n);
    }
}
