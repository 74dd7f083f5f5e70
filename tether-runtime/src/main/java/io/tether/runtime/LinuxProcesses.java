package io.tether.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.stream.LongStream;

/** What {@code /proc} says about a process, where {@link ProcessHandle} cannot tell. */
public final class LinuxProcesses {
    /**
     * Clock ticks per second in {@code /proc/<pid>/stat} ({@code USER_HZ}): 100 on every
     * architecture Linux exports to user space with a JDK (it is part of the ABI, whatever
     * the kernel's own tick rate).
     */
    private static final long USER_HZ = 100;

    private LinuxProcesses() {
    }

    /**
     * CPU time (user and system) used by {@code pid} and every process below it: for each
     * one running (or a zombie), its own time and that of the children it has waited for. A
     * process that left the tree (re-parented to an ancestor outside it) takes its time with
     * it; in a session with its own PID namespace nothing leaves, since the session's init
     * waits for every orphan.
     *
     * <p>The tree is walked through {@code /proc/<pid>/task/<tid>/children}, so the cost grows
     * with the session's processes, not the host's (tens of µs for a session of two);
     * where the kernel lacks those files, through {@link ProcessHandle#descendants}, which
     * reads every process on the host.
     *
     * @return empty when {@code pid} is gone
     */
    public static Optional<Duration> cpuTime(long pid) {
        long ticks = ticks(pid);
        if (ticks < 0) {
            return Optional.empty();
        }
        long[] below = descendants(pid);
        ticks += LongStream.of(below).map(LinuxProcesses::ticks).filter(t -> t > 0).sum();
        return Optional.of(Duration.ofMillis(ticks * 1000 / USER_HZ));
    }

    private static final boolean CHILDREN_FILES = Files.exists(Path.of("/proc/self/task")
            .resolve(Long.toString(ProcessHandle.current().pid())).resolve("children"));

    /**
     * Every process below {@code pid} now, depth first: from the children files of all its
     * threads where the kernel has them (cheap), else by {@link ProcessHandle#descendants}
     * (which reads every process on the host).
     */
    public static long[] descendants(long pid) {
        if (!CHILDREN_FILES) {
            return ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants).mapToLong(ProcessHandle::pid)
                    .toArray();
        }
        LongStream.Builder found = LongStream.builder();
        ArrayDeque<Long> todo = new ArrayDeque<>();
        todo.push(pid);
        while (!todo.isEmpty()) {
            long p = todo.pop();
            Path tasks = Path.of("/proc", Long.toString(p), "task");
            try (var threads = Files.newDirectoryStream(tasks)) {
                for (Path thread : threads) {
                    String children;
                    try {
                        children = Files.readString(thread.resolve("children"), StandardCharsets.ISO_8859_1);
                    } catch (IOException e) {
                        continue; // the thread ended
                    }
                    for (String c : children.trim().split(" ")) {
                        if (!c.isEmpty()) {
                            long child = Long.parseLong(c);
                            found.add(child);
                            todo.push(child);
                        }
                    }
                }
            } catch (IOException e) {
                // the process ended while we looked: its children are re-parented to the session's init
            }
        }
        return found.build().toArray();
    }

    /** utime + stime + cutime + cstime of {@code pid} in ticks, or -1 when it is gone. */
    private static long ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
            // after "pid (comm) ": state is field 3; utime, stime, cutime, cstime are 14-17
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 16);
            return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        } catch (IOException | RuntimeException e) {
            return -1; // exited while we looked
        }
    }

    /**
     * Whether {@code pid} has stopped running: gone, or a zombie its parent has not reaped
     * yet. {@link Process#isAlive} and {@link ProcessHandle#isAlive} still count a zombie as
     * alive until the JDK's reaper thread has waited for it.
     */
    public static boolean hasExited(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException | RuntimeException e) {
            return true; // exited while we looked
        }
    }
}
