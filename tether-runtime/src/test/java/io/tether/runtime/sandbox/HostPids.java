package io.tether.runtime.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For tests: the host's pid of a process that session code knows by its pid inside the
 * session's PID namespace (the same pid when the sandbox is off), and whether a pid still
 * runs.
 */
public final class HostPids {
    private HostPids() {
    }

    /**
     * The host pid of the process that {@code workerPid}'s PID namespace calls {@code inside},
     * or -1 when there is none (it exited).
     */
    public static long of(long workerPid, long inside) {
        Path proc = Path.of("/proc");
        // The worker and what it started (a jail's monitor and init come first).
        long[] family = java.util.stream.LongStream.concat(java.util.stream.LongStream.of(workerPid),
                ProcessHandle.of(workerPid).map(h -> h.descendants().mapToLong(ProcessHandle::pid))
                        .orElse(java.util.stream.LongStream.empty())).toArray();
        for (long pid : family) {
            if (innermost(proc.resolve(Long.toString(pid))) == inside) {
                return pid;
            }
        }
        String ns = namespace(proc.resolve(Long.toString(workerPid)));
        if (ns == null) {
            return -1;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(proc, p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path dir : dirs) {
                if (!ns.equals(namespace(dir))) {
                    continue;
                }
                try {
                    for (String line : Files.readAllLines(dir.resolve("status"), StandardCharsets.ISO_8859_1)) {
                        if (line.startsWith("NSpid:")) {
                            String[] f = line.trim().split("\\s+");
                            if (Long.parseLong(f[f.length - 1]) == inside) {
                                return Long.parseLong(dir.getFileName().toString());
                            }
                        }
                    }
                } catch (IOException e) {
                    // exited while we looked
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /**
     * Whether {@code pid} still runs. A zombie does not: an orphan waits for the host's init
     * to reap it, which {@link ProcessHandle#isAlive} would count as alive.
     */
    public static boolean running(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether {@code pid} has stopped running within {@code timeout}; looks every 2 ms. */
    public static boolean goneWithin(long pid, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (running(pid)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(2);
        }
        return true;
    }

    /** The pid {@code /proc/<pid>} has in its own PID namespace, or -1. */
    private static long innermost(Path procDir) {
        try {
            for (String line : Files.readAllLines(procDir.resolve("status"), StandardCharsets.ISO_8859_1)) {
                if (line.startsWith("NSpid:")) {
                    String[] f = line.trim().split("\\s+");
                    return Long.parseLong(f[f.length - 1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return -1;
    }

    /** The PID namespace {@code /proc/<pid>} is in, or null when it is gone. */
    private static String namespace(Path procDir) {
        try {
            return Files.readSymbolicLink(procDir.resolve("ns/pid")).toString();
        } catch (IOException e) {
            return null;
        }
    }
}
