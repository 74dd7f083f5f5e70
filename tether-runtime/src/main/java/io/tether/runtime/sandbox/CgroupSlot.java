package io.tether.runtime.sandbox;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's cgroup, made by {@link Cgroups#create}: a memory limit and a process limit
 * for a process tree, its CPU time, and a way to kill all of it. A process joins by
 * {@link #add} or, race-free, by starting behind {@link #joinCommandPrefix}; whatever it
 * forks from then on is in the slot too, and cannot leave it (short of root).
 *
 * <p>Thread-safe. {@link #add}, {@link #killAll} and {@link #close} exclude one another,
 * so no process is added behind a kill; the readers do not wait.
 */
public final class CgroupSlot implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CgroupSlot.class);
    static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final String id;
    private final List<Path> dirs;
    private final SlotFiles files;
    private final long selfPid;
    private final Consumer<CgroupSlot> onClosed;
    private final List<Path> procsFiles;
    private final ReentrantLock changing = new ReentrantLock();
    private volatile boolean closed;
    /** CPU time and memory peak read just before removal, so they outlive the slot; -1 when not kept. */
    private volatile long finalCpuNanos = -1;
    private volatile long finalMemoryPeak = -1;

    CgroupSlot(String id, List<Path> dirs, SlotFiles files, long selfPid, Consumer<CgroupSlot> onClosed) {
        this.id = id;
        this.dirs = List.copyOf(dirs);
        this.files = files;
        this.selfPid = selfPid;
        this.onClosed = onClosed;
        this.procsFiles = this.dirs.stream().map(d -> d.resolve(ControlFiles.PROCS)).toList();
    }

    /** Makes the directories and writes the limits; removes what it made when it fails. */
    void make(long memoryBytes, int maxProcesses) throws IOException {
        List<Path> made = new ArrayList<>(dirs.size());
        try {
            for (Path dir : dirs) {
                Files.createDirectory(dir);
                made.add(dir);
            }
            if (memoryBytes > 0) {
                if (files.memory() < 0) {
                    throw new IOException("this layout has no memory controller");
                }
                Path dir = dirs.get(files.memory());
                ControlFiles.write(dir.resolve(files.limitFile()), Long.toString(memoryBytes));
                if (files.swapFile() != null) { // v1 counts memory+swap: the same figure means no swap
                    ControlFiles.write(dir.resolve(files.swapFile()), files.memoryV2() ? "0" : Long.toString(memoryBytes));
                }
            }
            if (maxProcesses > 0) {
                if (files.pids() < 0) {
                    throw new IOException("this layout has no pids controller");
                }
                ControlFiles.write(dirs.get(files.pids()).resolve("pids.max"), Integer.toString(maxProcesses));
            }
        } catch (IOException | RuntimeException e) {
            for (Path dir : made.reversed()) {
                try {
                    ControlFiles.removeDirectory(dir);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
    }

    /** The id given to {@link Cgroups#create}. */
    public String id() {
        return id;
    }

    /**
     * Moves a running process (all its threads) into the slot; the children it forks later
     * are born in it. Race-free for a process that does not fork while this runs (a worker
     * waiting for its first request); for one being started use {@link #joinCommandPrefix}.
     *
     * @throws IllegalArgumentException for a pid that is not positive, or the JVM's own
     * @throws IllegalStateException after {@link #close}
     * @throws TetherException {@link ErrorCode#RUNTIME_UNAVAILABLE} when the kernel refuses,
     *     e.g. the process is gone; it may then be in some hierarchies of the slot
     */
    public void add(long pid) {
        if (pid <= 0 || pid == selfPid) {
            throw new IllegalArgumentException(pid == selfPid ? "the JVM cannot join a slot: killing the slot would kill it"
                    : "not a pid: " + pid);
        }
        changing.lock();
        try {
            requireOpen();
            String text = Long.toString(pid);
            for (Path procs : procsFiles) {
                ControlFiles.write(procs, text);
            }
        } catch (IOException e) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot move process " + pid + " into cgroup " + id
                    + ": " + e, e);
        } finally {
            changing.unlock();
        }
    }

    /**
     * The {@code cgroup.procs} files a process writes its pid to, one per hierarchy, to join
     * the slot itself (e.g. a forked worker, after fork and before running anything).
     */
    public List<Path> procsFiles() {
        return procsFiles;
    }

    /**
     * A command prefix that makes what follows it start inside the slot: a shell writes its
     * own pid to every {@link #procsFiles() procs file} and then execs the rest, keeping
     * its pid, so the process and all it forks are in the slot from their first
     * instruction. If joining fails the shell prints why and exits with a non-zero status
     * without running the command. Costs one more exec ({@code /bin/sh}) and the move: here,
     * under load, starting {@code /bin/true} took 12-19 ms behind the prefix against 8-13 ms
     * without (medians, {@code CgroupsMeasurement}).
     *
     * <pre>{@code
     * List<String> command = new ArrayList<>(slot.joinCommandPrefix());
     * command.addAll(List.of("/usr/bin/python3", "worker.py"));
     * new ProcessBuilder(command).start();
     * }</pre>
     */
    public List<String> joinCommandPrefix() {
        StringBuilder script = new StringBuilder();
        for (Path procs : procsFiles) {
            script.append("echo $$ > ").append(shellQuote(procs.toString())).append(" && ");
        }
        script.append("exec \"$@\"");
        return List.of("/bin/sh", "-c", script.toString(), "sh");
    }

    /**
     * The processes in the slot now (not their threads; zombies are not listed). Empty
     * after {@link #close}.
     *
     * @throws TetherException {@link ErrorCode#INTERNAL} when the listing cannot be read
     */
    public List<Long> pids() {
        try {
            return ControlFiles.pids(dirs.get(files.listing()));
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot list the processes of cgroup " + id + ": " + e, e);
        }
    }

    /**
     * CPU time (user and system) used by every process that ever ran in the slot, the dead
     * included; after {@link #close}, the final figure. Empty when the layout counts no CPU
     * (cgroup v1 without {@code cpuacct} and no v2 hierarchy).
     *
     * @throws TetherException {@link ErrorCode#INTERNAL} when the counter cannot be read
     */
    public Optional<Duration> cpuTime() {
        if (files.cpu() < 0) {
            return Optional.empty();
        }
        if (closed) {
            return finalCpuNanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(finalCpuNanos));
        }
        try {
            return Optional.of(Duration.ofNanos(readCpuNanos()));
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot read the CPU time of cgroup " + id + ": " + e, e);
        }
    }

    /**
     * The most memory the slot used at once, in bytes, as the kernel charged it (page cache
     * included); after {@link #close}, the final figure. Empty when the kernel does not keep
     * it (v2 before Linux 5.19) or the layout has no memory controller.
     *
     * @throws TetherException {@link ErrorCode#INTERNAL} when the counter cannot be read
     */
    public OptionalLong memoryPeak() {
        if (files.peakFile() == null) {
            return OptionalLong.empty();
        }
        if (closed) {
            return finalMemoryPeak < 0 ? OptionalLong.empty() : OptionalLong.of(finalMemoryPeak);
        }
        try {
            return OptionalLong.of(ControlFiles.readLong(dirs.get(files.memory()).resolve(files.peakFile())));
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot read the memory peak of cgroup " + id + ": " + e, e);
        }
    }

    /**
     * Kills every process in the slot with SIGKILL (through {@code cgroup.kill} when the
     * kernel has it, else pid by pid until none is left) and waits until the slot lists
     * none, at most 5 s. The slot stays usable.
     *
     * @return whether the slot is empty
     * @throws IllegalStateException after {@link #close}
     * @throws TetherException {@link ErrorCode#INTERNAL} when the cgroup files refuse
     */
    public boolean killAll() {
        changing.lock();
        try {
            requireOpen();
            return killAndAwait();
        } catch (IOException e) {
            throw new TetherException(ErrorCode.INTERNAL, "cannot kill the processes of cgroup " + id + ": " + e, e);
        } finally {
            changing.unlock();
        }
    }

    /**
     * Kills every process (as {@link #killAll}), waits until they are gone (at most 5 s)
     * and removes the slot's directories, retrying a busy directory within that time.
     * Idempotent. Does not throw: what it could not do is logged at WARN with what is left,
     * and the directories left behind are retried when the {@link Cgroups} close.
     */
    @Override
    public void close() {
        changing.lock();
        try {
            if (closed) {
                return;
            }
            Backoff backoff = new Backoff(Cgroups.KILL_WAIT);
            try {
                if (!killAndAwait()) {
                    log.warn("cgroups: processes of slot {} outlived SIGKILL for {}: {}", id, Cgroups.KILL_WAIT,
                            GroupKiller.listed(dirs));
                }
                keepFinalFigures();
            } catch (IOException | RuntimeException e) {
                log.warn("cgroups: cannot kill the processes of slot {}: {}", id, e.toString(), e);
            }
            closed = true;
            removeDirectories(backoff);
        } finally {
            changing.unlock();
        }
        onClosed.accept(this);
    }

    boolean isClosed() {
        return closed;
    }

    private boolean killAndAwait() throws IOException {
        Path killFile = files.kill() < 0 ? null : dirs.get(files.kill()).resolve("cgroup.kill");
        return GroupKiller.killAndAwait(dirs, killFile, selfPid, Cgroups.KILL_WAIT);
    }

    private void keepFinalFigures() throws IOException {
        if (files.cpu() >= 0) {
            finalCpuNanos = readCpuNanos();
        }
        if (files.peakFile() != null) {
            finalMemoryPeak = ControlFiles.readLong(dirs.get(files.memory()).resolve(files.peakFile()));
        }
    }

    /** rmdir fails with EBUSY while a killed process has left the listing but not yet exited. */
    private void removeDirectories(Backoff backoff) {
        try {
            for (Path dir : dirs.reversed()) {
                while (true) {
                    try {
                        ControlFiles.removeDirectory(dir);
                        break;
                    } catch (IOException e) {
                        if (backoff.expired()) {
                            log.warn("cgroups: cannot remove {} (still listed: {}): {}", dir, ControlFiles.pids(dir),
                                    e.toString());
                            break;
                        }
                        backoff.pause();
                    }
                }
            }
        } catch (IOException e) {
            log.warn("cgroups: cannot list what is left in slot {}: {}", id, e.toString());
        } finally {
            backoff.restoreInterrupt();
        }
    }

    private long readCpuNanos() throws IOException {
        Path dir = dirs.get(files.cpu());
        return files.cpuStat() ? ControlFiles.readKey(dir.resolve("cpu.stat"), "usage_usec") * 1_000
                : ControlFiles.readLong(dir.resolve("cpuacct.usage"));
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("cgroup slot " + id + " is closed");
        }
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    @Override
    public String toString() {
        return "cgroup slot " + id + " " + dirs;
    }
}
