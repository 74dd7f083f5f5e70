package io.tether.runtime.sandbox;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-session Linux cgroups: a {@link CgroupSlot} caps the memory and the number of
 * processes of a whole process tree, counts its CPU time and kills all of it, including
 * what it forked, re-parented or daemonised.
 *
 * <p>{@link #open} makes one parent group for this JVM, {@code <name>-<pid>}, under the
 * cgroup the JVM is in (in every hierarchy used), and {@link #create} makes slots under it.
 * Layouts, chosen from {@code /proc/self/cgroup} and {@code /proc/self/mountinfo}:
 * <ul>
 *   <li><b>cgroup v2</b> whose cgroup offers {@code memory} and {@code pids}: one hierarchy.
 *       Because of the v2 "no internal processes" rule the JVM may have to move into a leaf
 *       {@code <name>-<pid>/jvm.leaf}, and back on {@link #close}; see {@code ParentGroup}. The
 *       {@code cpu} controller is not enabled: CPU time comes from {@code cpu.stat}, which
 *       v2 keeps for every cgroup, and enabling {@code cpu} would give every slot an equal
 *       share of the CPU, a scheduling change nobody asked for.</li>
 *   <li><b>cgroup v1</b> (or hybrid): the {@code memory} and {@code pids} hierarchies; plus
 *       the v2 hierarchy when one is mounted (hybrid, e.g. at {@code /sys/fs/cgroup/unified},
 *       with no controllers), for its {@code cgroup.kill} and {@code cpu.stat}; otherwise
 *       {@code cpuacct} when mounted, for CPU time.</li>
 * </ul>
 * Anything else (no cgroup file system, no {@code memory} or {@code pids} controller, a
 * read-only or not delegated cgroup) makes {@link #open} return {@link Unavailable} with the
 * reason; it never throws for that. Groups {@code <name>-<pid>} whose JVM is gone are killed
 * and removed at open.
 *
 * <p>Thread-safe; slots are independent. Open the cgroups once per JVM: on v2 a second
 * instance would find the JVM in the first one's leaf.
 *
 * <p>Costs, by {@code CgroupsMeasurement}: 200 rounds (after 300 to warm up) of create (limits
 * 256 MB, 64 processes), add of a {@code sleep} started just before (not timed), close (kills
 * it, waits until the slot is empty, rmdir); 2-core Firecracker VM, Linux 6.18, hybrid layout
 * (3 hierarchies), other builds running (load 2-4). Create+add+close: median 2.1-3.2 ms,
 * p99 19 ms, most of it close waiting for the kernel to tear the killed process down (median
 * 1.6-2.0 ms); create 0.23-0.34 ms, add 0.13-0.21 ms (p99 5 and 9 ms). The kernel's own floor,
 * in a warm loop with no process starts: create about 90 µs, add 50 µs, rmdir 40 µs.
 *
 * @implNote everything is {@code mkdir}, {@code rmdir} and one {@code open}/{@code write}
 *     or {@code read} per control file; nothing forks. Moving a process (add, or the shell of
 *     {@link CgroupSlot#joinCommandPrefix}) takes the kernel's cgroup_threadgroup_rwsem for
 *     writing, which waits for an RCU grace period when no move happened in the last few
 *     milliseconds: 0.1-0.2 ms typically, a few ms at p99. (A v2 mount with
 *     {@code favordynmods}, Linux 6.0+, avoids that.) {@link CgroupSlot#close} polls the
 *     listing with pauses from 50 µs to 2 ms until the killed processes are gone.
 */
public final class Cgroups implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Cgroups.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,31}");
    private static final Set<String> LIMITS = Set.of("memory", "pids");
    /** Names open in this JVM; a {@code <name>-<own pid>} group found for any other name is stale. */
    private static final Set<String> OPEN = ConcurrentHashMap.newKeySet();
    /** How long {@link CgroupSlot#close} and stale clean-up wait for killed processes to go. */
    static final Duration KILL_WAIT = Duration.ofSeconds(5);

    /** What {@link #open} found: the cgroups, or why they cannot be used here. */
    public sealed interface Availability permits Available, Unavailable {
        /** The cgroups when available, else empty. */
        default Optional<Cgroups> toOptional() {
            return this instanceof Available(Cgroups c) ? Optional.of(c) : Optional.empty();
        }
    }

    /** Cgroups can be used; the caller owns {@code cgroups} and closes it. */
    public record Available(Cgroups cgroups) implements Availability {
    }

    /** Cgroups cannot be used here; {@code reason} says why, for a log line. */
    public record Unavailable(String reason) implements Availability {
    }

    /** One hierarchy to use, and the v2 controllers its parent group must enable for slots. */
    record Placement(Hierarchy hierarchy, Set<String> enable) {
    }

    private final String name;
    private final long selfPid;
    private final List<ParentGroup> parents;
    private final SlotFiles files;
    private final Map<String, CgroupSlot> slots = new ConcurrentHashMap<>();
    /** Read side: creating a slot; write side: closing, so no slot is made in a removed parent. */
    private final ReadWriteLock closing = new ReentrantReadWriteLock();
    private boolean closed;
    /** The slot {@link #newSlot} made ahead, with its limits; null when there is none. */
    private final AtomicReference<Ahead> ahead = new AtomicReference<>();
    private final AtomicLong slotIds = new AtomicLong();

    private record Ahead(CgroupSlot slot, long memoryBytes, int maxProcesses) {
    }

    /**
     * How long after a {@link #newSlot} the next slot is made ahead: long enough that the
     * mkdirs do not compete for the CPU with the session start that took the last one
     * (a forked worker is ready ~2-3 ms after its slot is taken).
     */
    static final Duration AHEAD_DELAY = Duration.ofMillis(5);
    private static final Executor AHEAD = CompletableFuture.delayedExecutor(AHEAD_DELAY.toNanos(),
            TimeUnit.NANOSECONDS, Executors.newVirtualThreadPerTaskExecutor());

    private Cgroups(String name, long selfPid, List<ParentGroup> parents) {
        this.name = name;
        this.selfPid = selfPid;
        this.parents = List.copyOf(parents);
        this.files = SlotFiles.of(this.parents);
    }

    /**
     * Finds where this process can make cgroups and makes its parent group
     * {@code <name>-<pid>}; see the class comment for the layouts.
     *
     * @param name a prefix for the parent group: letters, digits, '-' and '_', at most 32,
     *     starting with a letter or digit
     * @return {@link Available}, or {@link Unavailable} with the reason (also when this
     *     name is open already in this JVM)
     * @throws IllegalArgumentException when {@code name} is not as described
     */
    public static Availability open(String name) {
        requireName(name);
        if (!Files.isReadable(CgroupMounts.PROC_SELF_CGROUP)) {
            return new Unavailable(CgroupMounts.PROC_SELF_CGROUP + " cannot be read: not Linux, or no /proc");
        }
        List<Hierarchy> found;
        try {
            found = CgroupMounts.read();
        } catch (IOException | RuntimeException e) {
            return new Unavailable("cannot read this process's cgroups: " + e);
        }
        List<Placement> placements = choose(found);
        if (placements.isEmpty()) {
            return new Unavailable("no usable memory and pids controllers: this process is in " + found
                    + "; cgroup v2 must offer memory and pids, or cgroup v1 hierarchies of both must be mounted");
        }
        return open(name, placements, ProcessHandle.current().pid());
    }

    /**
     * Opens with the given hierarchies; for tests, which also pick layouts the host would
     * not choose by itself and play the JVM with another process ({@code selfPid}).
     */
    static Availability open(String name, List<Placement> placements, long selfPid) {
        requireName(name);
        if (!OPEN.add(name)) {
            return new Unavailable("cgroups named " + name + " are open in this JVM already");
        }
        String dirName = name + "-" + selfPid;
        List<ParentGroup> made = new ArrayList<>();
        try {
            for (Placement p : placements) {
                removeStale(p.hierarchy().ownDir(), name, selfPid);
                made.add(ParentGroup.create(p.hierarchy(), dirName, p.enable(), selfPid));
            }
        } catch (IOException | RuntimeException e) {
            for (ParentGroup group : made.reversed()) {
                removeReporting(group);
            }
            OPEN.remove(name);
            return new Unavailable("cannot make " + dirName + " in " + placements.get(made.size()).hierarchy() + ": " + e);
        }
        Cgroups cgroups = new Cgroups(name, selfPid, made);
        log.info("cgroups: slots go under {}", cgroups);
        return new Available(cgroups);
    }

    /** Which hierarchies to use; empty when none will do. */
    static List<Placement> choose(List<Hierarchy> found) {
        Optional<Hierarchy> unified = found.stream().filter(Hierarchy::unified).findFirst();
        if (unified.isPresent() && unified.get().controllers().containsAll(LIMITS)) {
            return List.of(new Placement(unified.get(), LIMITS));
        }
        Optional<Hierarchy> memory = v1With(found, "memory");
        Optional<Hierarchy> pids = v1With(found, "pids");
        if (memory.isEmpty() || pids.isEmpty()) {
            return List.of();
        }
        List<Placement> use = new ArrayList<>();
        use.add(new Placement(memory.get(), Set.of()));
        if (!pids.get().equals(memory.get())) {
            use.add(new Placement(pids.get(), Set.of()));
        }
        unified.or(() -> v1With(found, "cpuacct").filter(h -> !h.equals(memory.get()) && !h.equals(pids.get())))
                .ifPresent(h -> use.add(new Placement(h, Set.of())));
        return use;
    }

    private static Optional<Hierarchy> v1With(List<Hierarchy> found, String controller) {
        return found.stream().filter(h -> !h.unified() && h.offers(controller)).findFirst();
    }

    /**
     * Makes a slot: a child group with the given limits in every hierarchy used.
     *
     * @param id a name unique among this instance's open slots: letters, digits, '-' and
     *     '_', at most 64 (a session id fits)
     * @param memoryBytes the most memory (RAM, page cache included) the tree may use, with
     *     no swap; 0 for no limit. At the limit the kernel reclaims, then OOM-kills a process
     *     of the slot
     * @param maxProcesses the most processes (threads count, on v1 and v2) at once; 0 for no
     *     limit. At the limit fork and clone fail with EAGAIN
     * @throws IllegalArgumentException for a malformed or taken id, or a negative limit
     * @throws IllegalStateException after {@link #close}
     * @throws TetherException {@link ErrorCode#RUNTIME_UNAVAILABLE} when the kernel refuses
     *     (too many cgroups, a limit this layout cannot set); nothing is left behind then
     */
    public CgroupSlot create(String id, long memoryBytes, int maxProcesses) {
        if (!CgroupSlot.ID.matcher(id).matches()) {
            throw new IllegalArgumentException("slot id must be 1-64 letters, digits, '-' or '_': " + id);
        }
        if (memoryBytes < 0 || maxProcesses < 0) {
            throw new IllegalArgumentException("limits must be 0 (none) or positive: memory " + memoryBytes
                    + ", processes " + maxProcesses);
        }
        closing.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("the cgroups " + this + " are closed");
            }
            List<Path> dirs = new ArrayList<>(parents.size());
            for (ParentGroup parent : parents) {
                dirs.add(parent.dir().resolve(id));
            }
            CgroupSlot slot = new CgroupSlot(id, dirs, files, selfPid, this::forget);
            if (slots.putIfAbsent(id, slot) != null) {
                throw new IllegalArgumentException("a slot " + id + " is open already");
            }
            try {
                slot.make(memoryBytes, maxProcesses);
            } catch (IOException | RuntimeException e) {
                slots.remove(id, slot);
                throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot make cgroup " + id + ": " + e, e);
            }
            return slot;
        } finally {
            closing.readLock().unlock();
        }
    }

    /**
     * A slot with an id of its own ({@code w<n>}) and these limits, for a session start:
     * the slot made ahead when its limits are these (a start then makes no cgroup, about
     * 0.3 ms of a forked worker's 3 ms), else a new one. Either way the next is made ahead
     * {@link #AHEAD_DELAY} later, with the same limits (a runtime's sessions mostly share
     * theirs); one made ahead and never taken is removed by {@link #close} like any slot.
     *
     * @throws IllegalArgumentException for a negative limit
     * @throws IllegalStateException after {@link #close}
     * @throws TetherException {@link ErrorCode#RUNTIME_UNAVAILABLE} when the kernel refuses
     */
    public CgroupSlot newSlot(long memoryBytes, int maxProcesses) {
        CgroupSlot slot = null;
        closing.readLock().lock(); // a slot made ahead is not closed unless the cgroups are
        try {
            if (closed) {
                throw new IllegalStateException("the cgroups " + this + " are closed");
            }
            Ahead made = ahead.getAndSet(null);
            if (made != null && made.memoryBytes() == memoryBytes && made.maxProcesses() == maxProcesses) {
                slot = made.slot();
            } else if (made != null) {
                made.slot().close(); // empty: only rmdirs
            }
            if (slot == null) {
                slot = create("w" + slotIds.incrementAndGet(), memoryBytes, maxProcesses);
            }
        } finally {
            closing.readLock().unlock();
        }
        AHEAD.execute(() -> makeAhead(memoryBytes, maxProcesses));
        return slot;
    }

    /** The id of the slot made ahead, if there is one now (for tests). */
    Optional<String> aheadId() {
        return Optional.ofNullable(ahead.get()).map(a -> a.slot().id());
    }

    private void makeAhead(long memoryBytes, int maxProcesses) {
        if (ahead.get() != null) {
            return; // another start's turn made one
        }
        CgroupSlot slot;
        try {
            slot = create("w" + slotIds.incrementAndGet(), memoryBytes, maxProcesses);
        } catch (IllegalStateException e) {
            return; // closed meanwhile
        } catch (RuntimeException e) {
            log.debug("cgroups: no slot made ahead: {}", e.toString()); // the next start makes its own, and says why
            return;
        }
        if (!ahead.compareAndSet(null, new Ahead(slot, memoryBytes, maxProcesses))) {
            slot.close();
        }
    }

    private void forget(CgroupSlot slot) {
        slots.remove(slot.id(), slot);
    }

    /**
     * Closes every open slot (killing its processes), removes the parent groups (and any
     * slot directory a slot's close left) and, on v2, moves the JVM back where it was.
     * Idempotent; failures are logged (WARN), not thrown.
     * Blocks up to {@link CgroupSlot#close}'s bound per slot whose processes do not die.
     */
    @Override
    public void close() {
        closing.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            List.copyOf(slots.values()).forEach(CgroupSlot::close);
            for (ParentGroup group : parents.reversed()) {
                try {
                    ParentGroup.removeSlots(group.dir(), selfPid); // those a slot's close could not remove
                } catch (IOException e) {
                    log.warn("cgroups: cannot remove the slots left in {}: {}", group.dir(), e.toString());
                }
                removeReporting(group);
            }
            OPEN.remove(name);
        } finally {
            closing.writeLock().unlock();
        }
    }

    private static void removeReporting(ParentGroup group) {
        try {
            group.remove();
        } catch (IOException e) {
            log.warn("cgroups: {}", e.getMessage(), e);
        }
    }

    /**
     * Kills and removes {@code <name>-<pid>} groups in {@code own} whose JVM is gone (or
     * whose pid is ours while the name is not open here: a recycled pid). Logs what it
     * cannot remove; never fails the caller.
     */
    private static void removeStale(Path own, String name, long selfPid) {
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(own, name + "-*")) {
            for (Path dir : dirs) {
                String suffix = dir.getFileName().toString().substring(name.length() + 1);
                if (Files.isDirectory(dir) && !suffix.isEmpty() && suffix.chars().allMatch(Character::isDigit)) {
                    long pid = Long.parseLong(suffix);
                    if (pid == selfPid || ProcessHandle.of(pid).isEmpty()) {
                        stale.add(dir);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("cgroups: cannot look for stale groups in {}: {}", own, e.toString());
        }
        for (Path dir : stale) {
            try {
                ParentGroup.removeSlots(dir, selfPid);
                ControlFiles.removeDirectory(dir.resolve(ParentGroup.JVM_LEAF));
                ControlFiles.removeDirectory(dir);
                log.info("cgroups: removed {}, left by a JVM that is gone", dir);
            } catch (IOException | RuntimeException e) {
                log.warn("cgroups: cannot remove stale group {}: {}", dir, e.toString());
            }
        }
    }

    private static void requireName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("cgroup name must be 1-32 letters, digits, '-' or '_', starting with a"
                    + " letter or digit: " + name);
        }
    }

    /** The parent groups, e.g. for a start-up log line. */
    @Override
    public String toString() {
        return parents.toString() + files;
    }
}
