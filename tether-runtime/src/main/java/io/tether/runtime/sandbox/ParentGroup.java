package io.tether.runtime.sandbox;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The cgroup one JVM owns in one hierarchy, {@code <own cgroup>/<name>-<pid>}, under which
 * its slots are made.
 *
 * <p>cgroup v2 only lets a cgroup hand controllers to its children (write them to its
 * {@code cgroup.subtree_control}) while it holds no processes itself (the "no internal
 * processes" rule; the root is exempt). The JVM's own cgroup holds at least the JVM, so when
 * the controllers are not enabled there yet and the JVM is the only process in it, the JVM
 * moves into a leaf, {@code <name>-<pid>/jvm.leaf}, the controllers are enabled on its own
 * cgroup and on {@code <name>-<pid>}, and slots become siblings of that leaf. This is the
 * layout systemd documents for a service with {@code Delegate=yes}, and what a container
 * whose main process is the JVM needs. When other processes share the JVM's cgroup, they
 * are not moved: opening fails and says so. {@link #remove} undoes it all: the JVM moves
 * back. A sibling of the JVM's cgroup was not chosen: it would sit outside the delegated
 * subtree (not writable without root) and outside the limits put on the JVM's service or
 * container.
 */
final class ParentGroup {
    /** The leaf the JVM moves into; slot ids have no dot, so never clash. */
    static final String JVM_LEAF = "jvm.leaf";

    private final Hierarchy hierarchy;
    private final Path dir;
    private final Set<String> enabled;
    private final long selfPid;
    /** Controllers this group enabled on the JVM's own cgroup after moving the JVM out; empty if it did not move. */
    private final Set<String> enabledOnOwn;

    private ParentGroup(Hierarchy hierarchy, Path dir, Set<String> enabled, long selfPid, Set<String> enabledOnOwn) {
        this.hierarchy = hierarchy;
        this.dir = dir;
        this.enabled = enabled;
        this.selfPid = selfPid;
        this.enabledOnOwn = enabledOnOwn;
    }

    /**
     * Makes {@code hierarchy.ownDir()/dirName} and, on v2, enables {@code enable} for its
     * children. Leaves nothing behind when it fails.
     *
     * @param selfPid the JVM's pid (a parameter so that tests can play the JVM with another process)
     * @throws IOException with a message fit for people when the group cannot be made
     */
    static ParentGroup create(Hierarchy hierarchy, String dirName, Set<String> enable, long selfPid)
            throws IOException {
        Path own = hierarchy.ownDir();
        Path dir = own.resolve(dirName);
        Files.createDirectory(dir);
        Set<String> missing = new TreeSet<>(enable);
        ParentGroup group = new ParentGroup(hierarchy, dir, Set.copyOf(enable), selfPid, Set.of());
        try {
            if (!enable.isEmpty()) {
                missing.removeAll(ControlFiles.words(own.resolve("cgroup.subtree_control")));
            }
            if (!missing.isEmpty()) {
                group = enableOnOwn(group, missing);
            }
            if (!enable.isEmpty()) {
                ControlFiles.write(dir.resolve("cgroup.subtree_control"), change('+', enable));
            }
            return group;
        } catch (IOException | RuntimeException e) {
            try {
                group.remove();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Enables {@code missing} on the JVM's own cgroup, moving the JVM into the leaf when it must. */
    private static ParentGroup enableOnOwn(ParentGroup group, Set<String> missing) throws IOException {
        Path own = group.hierarchy.ownDir();
        try {
            ControlFiles.write(own.resolve("cgroup.subtree_control"), change('+', missing));
            return group; // the root, or a cgroup without processes
        } catch (IOException refused) {
            List<Long> inOwn = ControlFiles.pids(own);
            if (!inOwn.equals(List.of(group.selfPid))) {
                throw new IOException("cannot enable " + missing + " for children of " + own + " (" + refused.getMessage()
                        + "): cgroup v2 allows that only in a cgroup without processes, and " + inOwn.size()
                        + " processes other than the JVM share it; run Tether alone in its cgroup (a systemd unit with"
                        + " Delegate=yes, or a container whose main process is the JVM)", refused);
            }
        }
        Path leaf = group.dir.resolve(JVM_LEAF);
        Files.createDirectory(leaf);
        ControlFiles.write(leaf.resolve(ControlFiles.PROCS), Long.toString(group.selfPid));
        try {
            ControlFiles.write(own.resolve("cgroup.subtree_control"), change('+', missing));
        } catch (IOException e) {
            try {
                ControlFiles.write(own.resolve(ControlFiles.PROCS), Long.toString(group.selfPid));
            } catch (IOException back) {
                e.addSuppressed(back);
            }
            throw e;
        }
        return new ParentGroup(group.hierarchy, group.dir, group.enabled, group.selfPid, Set.copyOf(missing));
    }

    Hierarchy hierarchy() {
        return hierarchy;
    }

    Path dir() {
        return dir;
    }

    /** Whether slots made under this group get {@code controller}: enabled for them on v2, mounted with on v1. */
    boolean givesChildren(String controller) {
        return hierarchy.unified() ? enabled.contains(controller) : hierarchy.offers(controller);
    }

    /** Whether the JVM was moved into {@link #JVM_LEAF}. */
    boolean movedJvm() {
        return !enabledOnOwn.isEmpty();
    }

    /**
     * Removes the group, which must have no slots left, and moves the JVM back if it was
     * moved. Tries every step; the first failure is thrown with the others suppressed.
     */
    void remove() throws IOException {
        List<IOException> failures = new ArrayList<>();
        Path own = hierarchy.ownDir();
        if (movedJvm()) {
            run(failures, () -> ControlFiles.write(dir.resolve("cgroup.subtree_control"), change('-', enabled)));
            run(failures, () -> ControlFiles.write(own.resolve("cgroup.subtree_control"), change('-', enabledOnOwn)));
            run(failures, () -> ControlFiles.write(own.resolve(ControlFiles.PROCS), Long.toString(selfPid)));
        }
        if (Files.isDirectory(dir.resolve(JVM_LEAF))) {
            run(failures, () -> ControlFiles.removeDirectory(dir.resolve(JVM_LEAF)));
        }
        run(failures, () -> ControlFiles.removeDirectory(dir));
        if (!failures.isEmpty()) {
            IOException first = new IOException("cannot fully remove " + dir + ": " + failures.getFirst().getMessage(),
                    failures.getFirst());
            failures.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
    }

    /**
     * Kills the processes of every slot directory under {@code dir} (all children but the
     * JVM's leaf) and removes them: a stale group's, or those a slot's close left behind.
     *
     * @throws IOException for the first directory that could not be emptied or removed,
     *     after trying all
     */
    static void removeSlots(Path dir, long selfPid) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir,
                p -> Files.isDirectory(p) && !p.getFileName().toString().equals(JVM_LEAF))) {
            entries.forEach(children::add);
        } catch (NoSuchFileException e) {
            return;
        }
        List<IOException> failures = new ArrayList<>();
        for (Path child : children) {
            run(failures, () -> {
                Path kill = child.resolve("cgroup.kill");
                if (!GroupKiller.killAndAwait(List.of(child), Files.exists(kill) ? kill : null, selfPid,
                        Cgroups.KILL_WAIT)) {
                    throw new IOException("processes in " + child + " outlived SIGKILL: " + ControlFiles.pids(child));
                }
                ControlFiles.removeDirectory(child);
            });
        }
        if (!failures.isEmpty()) {
            failures.stream().skip(1).forEach(failures.getFirst()::addSuppressed);
            throw failures.getFirst();
        }
    }

    private interface Step {
        void run() throws IOException;
    }

    private static void run(List<IOException> failures, Step step) {
        try {
            step.run();
        } catch (IOException e) {
            failures.add(e);
        }
    }

    /** "+memory +pids" or "-memory -pids": each controller gets the sign. */
    private static String change(char sign, Set<String> controllers) {
        StringBuilder out = new StringBuilder();
        for (String c : new TreeSet<>(controllers)) {
            out.append(out.isEmpty() ? "" : " ").append(sign).append(c);
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return dir + (hierarchy.unified() ? " (v2" : " (v1") + (movedJvm() ? ", JVM moved into " + JVM_LEAF + ")" : ")");
    }
}
