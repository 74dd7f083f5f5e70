package io.tether.runtime.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills every process of a cgroup (one directory per hierarchy) and waits until none is
 * listed. With a v2 {@code cgroup.kill} file the kernel kills the whole group at once,
 * racing no fork; without one every listed pid gets SIGKILL, round after round, until the
 * listing is empty: a process forked between a listing and its parent's death shows up in
 * the next round, and the slot's {@code pids.max} bounds how many there can be. (A v1
 * freezer hierarchy could stop the forking first; not used, since the hybrid layout offers
 * {@code cgroup.kill} and pure v1 hosts are rare.)
 */
final class GroupKiller {
    private static final Logger log = LoggerFactory.getLogger(GroupKiller.class);
    /** After this, pids still listed despite {@code cgroup.kill} get a signal too (added to v1 only, say). */
    private static final long SIGNAL_TOO_AFTER_NANOS = Duration.ofMillis(50).toNanos();

    private GroupKiller() {
    }

    /**
     * Kills and waits at most {@code timeout}. Never signals {@code selfPid} (the JVM), and
     * does not use {@code cgroup.kill} while the JVM is listed. An interrupt does not cut
     * the wait short; the thread's interrupt status is kept.
     *
     * @param killFile the v2 {@code cgroup.kill} of one of {@code dirs}, or null
     * @return whether every directory lists no process
     * @throws IOException when a listing cannot be read or {@code cgroup.kill} refuses
     */
    static boolean killAndAwait(List<Path> dirs, Path killFile, long selfPid, Duration timeout) throws IOException {
        long start = System.nanoTime();
        Backoff backoff = new Backoff(timeout);
        boolean killWritten = false;
        try {
            while (true) {
                Set<Long> listed = listed(dirs);
                if (listed.isEmpty()) {
                    return true;
                }
                boolean selfListed = listed.contains(selfPid);
                if (killFile != null && !killWritten && !selfListed) {
                    ControlFiles.write(killFile, "1");
                    killWritten = true;
                } else if (killFile == null || selfListed || System.nanoTime() - start > SIGNAL_TOO_AFTER_NANOS) {
                    signal(listed, selfPid);
                }
                if (selfListed && listed.size() == 1) {
                    log.error("cgroups: the JVM itself (pid {}) is in {}; it is not killed", selfPid, dirs);
                    return false;
                }
                if (backoff.expired()) {
                    return false;
                }
                backoff.pause();
            }
        } finally {
            backoff.restoreInterrupt();
        }
    }

    /** Every pid listed in any of {@code dirs}. */
    static Set<Long> listed(List<Path> dirs) throws IOException {
        Set<Long> pids = new LinkedHashSet<>();
        for (Path dir : dirs) {
            pids.addAll(ControlFiles.pids(dir));
        }
        return pids;
    }

    /**
     * SIGKILL by pid. {@link ProcessHandle#of} records the start time, and destroying checks
     * it, so a pid recycled after the listing is not hit.
     */
    private static void signal(Set<Long> pids, long selfPid) {
        for (long pid : pids) {
            if (pid != selfPid) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
