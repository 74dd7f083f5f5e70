package io.tether.session;

import io.tether.runtime.DirectoryUsage;
import io.tether.runtime.WorkerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk quota of a manager's workers ({@link WorkerOptions.WorkerLimits#diskQuotaBytes}):
 * measures a working directory and, when it holds more than the quota, says how its worker
 * dies. A directory that cannot be measured (part of it made unreadable, directories moved
 * about during every attempt) counts as over the quota: a quota that can be dodged is none.
 *
 * <p>Thread-safe: measurements share nothing.
 *
 * @param bytes the quota; 0 = none
 */
record DiskQuota(long bytes) {
    private static final Logger log = LoggerFactory.getLogger(DiskQuota.class);
    private static final String[] UNITS = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    DiskQuota {
        if (bytes < 0) {
            throw new IllegalArgumentException("disk quota must be ≥ 0, got " + bytes);
        }
    }

    /**
     * Measures {@code dir} on the calling thread.
     *
     * @return {@code null} when it is within the quota, when there is no quota, or when it is
     *     gone (its worker was closed); otherwise how its worker dies
     */
    WorkerDeath check(Path dir) {
        if (bytes == 0) {
            return null;
        }
        DirectoryUsage usage;
        try {
            usage = DirectoryUsage.measure(dir);
        } catch (IOException e) {
            if (Files.notExists(dir, LinkOption.NOFOLLOW_LINKS)) {
                return null; // its worker was closed and took the directory with it
            }
            log.warn("cannot measure working directory {}; its worker is killed", dir, e);
            return WorkerDeath.diskQuotaExceeded("the session's working directory cannot be measured ("
                    + e.getMessage() + "), so its quota of " + size(bytes) + " cannot be enforced");
        }
        if (usage.bytes() <= bytes) {
            return null;
        }
        String held = size(usage.bytes());
        String quota = size(bytes);
        if (held.equals(quota)) {
            held = exact(usage.bytes());
            quota = exact(bytes);
        }
        return WorkerDeath.diskQuotaExceeded("the session's working directory holds " + held + " in "
                + usage.files() + (usage.files() == 1 ? " file" : " files") + ", its quota is " + quota);
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
