package io.tether.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The host's processes as {@code /proc} shows them (Linux): for tests that count processes
 * by pid before and after, and look whether one still runs.
 */
public final class HostProcesses {
    private static final Path PROC = Path.of("/proc");

    private HostProcesses() {
    }

    /** Whether {@code pid} runs: it exists and is not a zombie (a zombie runs nothing). */
    public static boolean running(long pid) {
        char s = state(pid);
        return s != 0 && s != 'Z' && s != 'X';
    }

    /** Its state letter from {@code /proc/<pid>/stat} (R, S, T, Z, ...), or 0 when it is gone. */
    public static char state(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1);
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Every running pid on the host. */
    public static Set<Long> all() {
        Set<Long> pids = new TreeSet<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path dir : dirs) {
                pids.add(Long.parseLong(dir.getFileName().toString()));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        pids.removeIf(p -> !running(p));
        return pids;
    }

    /** The PID namespace {@code pid} is in (e.g. {@code pid:[4026532301]}), or null when it is gone. */
    public static String pidNamespace(long pid) {
        try {
            return Files.readSymbolicLink(PROC.resolve(Long.toString(pid)).resolve("ns/pid")).toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** The running processes in PID namespace {@code namespace}. */
    public static Set<Long> inPidNamespace(String namespace) {
        return all().stream().filter(p -> namespace.equals(pidNamespace(p))).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The running processes whose process group is {@code group}. */
    public static Set<Long> inGroup(long group) {
        return all().stream().filter(p -> group(p) == group).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Field 5 of {@code /proc/<pid>/stat}, or -1. */
    public static long group(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1);
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ", 4)[2]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * This JVM's running descendants, and every running process whose working directory is
     * under {@code root} (what left the JVM's tree but not the directory it was started in).
     */
    public static Set<Long> ours(Path root) {
        Set<Long> pids = ProcessHandle.current().descendants().map(ProcessHandle::pid)
                .collect(Collectors.toCollection(TreeSet::new));
        String prefix = root.toAbsolutePath().normalize().toString();
        for (long pid : all()) {
            try {
                if (Files.readSymbolicLink(PROC.resolve(Long.toString(pid)).resolve("cwd")).toString().startsWith(prefix)) {
                    pids.add(pid);
                }
            } catch (IOException e) {
                // not ours to read, or gone
            }
        }
        pids.removeIf(p -> !running(p));
        return pids;
    }

    /** SIGKILL to {@code pid} (also stopped); false when it is gone already. */
    public static boolean kill(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false);
    }
}
