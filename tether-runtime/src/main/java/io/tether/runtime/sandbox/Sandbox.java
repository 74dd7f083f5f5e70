package io.tether.runtime.sandbox;

import io.tether.ErrorCode;
import io.tether.SetOnce;
import io.tether.TetherException;
import io.tether.runtime.LinuxProcesses;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What confines the code sessions run: which layers this host offers, which are in force,
 * and how a runtime starts its processes inside them. Built once per server (the probe runs
 * a process or two, about 50 ms) and shared by its runtimes.
 *
 * <p>The layers (see {@code docs/security.md}):
 * <ul>
 *   <li>{@link Layer#JAIL}: the runtime's processes run in bubblewrap: a mount namespace
 *       with the system's files read-only and the work root, but never the data directory,
 *       the server's files or the rest of the host; their own user, IPC and network
 *       namespaces (no network unless allowed); when Tether runs as root, as the
 *       unprivileged user {@value #UNPRIVILEGED_UID} instead.</li>
 *   <li>{@link Layer#SESSION_NAMESPACES}: every session its own user, PID, mount, IPC and
 *       network namespace: it sees and signals only its own processes, has its own
 *       {@code /proc}, {@code /tmp} and {@code /dev/shm}, everything it started ends with it,
 *       and its process limit counts its processes only.</li>
 *   <li>{@link Layer#LANDLOCK}: a Landlock domain per session: files only in its working
 *       directory (read-write) and the system's and interpreter's (read-only); no TCP bind
 *       or connect without network; no signal or abstract Unix socket out of the session.</li>
 *   <li>{@link Layer#CGROUP}: a cgroup per session (see {@link Cgroups}): the memory and the
 *       number of processes of its whole process tree are capped, its CPU time is counted,
 *       and everything in it is killed when it ends. Where this process can make cgroups
 *       (as root, or in a delegated cgroup v2 subtree).</li>
 * </ul>
 *
 * <p>{@link Mode#AUTO} uses every layer the host offers, {@link Mode#REQUIRED} refuses to
 * build when one is missing (naming it), {@link Mode#OFF} uses none. Immutable and
 * thread-safe.
 */
public final class Sandbox {
    private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
    /** The user the jail runs as when Tether runs as root ({@code nobody}). */
    public static final int UNPRIVILEGED_UID = 65534;
    /** Where bubblewrap is looked for first. */
    static final Path DEFAULT_BWRAP = Path.of("/usr/bin/bwrap");
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    /** Where the jail mounts the working directories. */
    public static final Path JAIL_WORK_ROOT = Path.of("/tether/work");
    private static final List<String> SYSTEM_LINKS = List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32");

    /** How much confinement the operator asks for. */
    public enum Mode {
        /** Every layer the host offers. */
        AUTO,
        /** Every layer, or refuse to start. */
        REQUIRED,
        /** None: session code can reach everything the server can. */
        OFF;

        /**
         * The mode named {@code auto}, {@code required} or {@code off}.
         *
         * @throws IllegalArgumentException for any other name
         */
        public static Mode of(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One layer of confinement. */
    public enum Layer {
        JAIL("jail"), SESSION_NAMESPACES("session-namespaces"), LANDLOCK("landlock"), CGROUP("cgroup");

        private final String label;

        Layer(String label) {
            this.label = label;
        }

        /** Its name in reports: {@code jail}, {@code session-namespaces}, {@code landlock}. */
        public String label() {
            return label;
        }
    }

    private final Mode mode;
    private final boolean networkAllowed;
    private final Path bwrap;
    private final Set<Layer> layers;
    private final int landlockAbi;
    private final List<String> missing;
    private final List<Path> hidden;
    private final boolean root;
    private final Cgroups cgroups; // null unless the cgroup layer is in force

    private Sandbox(Mode mode, boolean networkAllowed, Path bwrap, Set<Layer> layers, int landlockAbi,
                    List<String> missing, List<Path> hidden, boolean root, Cgroups cgroups) {
        this.mode = mode;
        this.networkAllowed = networkAllowed;
        this.bwrap = bwrap;
        this.layers = Set.copyOf(layers);
        this.landlockAbi = landlockAbi;
        this.missing = List.copyOf(missing);
        this.hidden = List.copyOf(hidden);
        this.root = root;
        this.cgroups = cgroups;
    }

    /** No confinement at all ({@link Mode#OFF}). */
    public static Sandbox off() {
        return new Sandbox(Mode.OFF, true, null, Set.of(), 0, List.of(), List.of(), false, null);
    }

    /** A builder: mode {@link Mode#AUTO}, no network. */
    public static Builder builder() {
        return new Builder();
    }

    public Mode mode() {
        return mode;
    }

    /** Whether a session may ask for the network (the server allows it); none has it unless it asks. */
    public boolean networkAllowed() {
        return networkAllowed;
    }

    /**
     * Refuses a worker that would use the network where that is not allowed.
     *
     * @throws TetherException {@code invalid_request} when {@code network} is asked for and
     *     not allowed
     */
    public void checkNetwork(boolean network) {
        if (network && !networkAllowed) {
            throw new TetherException(ErrorCode.INVALID_REQUEST, "network: this server does not allow sessions to "
                    + "use the network (sandbox_network = false)");
        }
    }

    /** Whether {@code layer} is in force. */
    public boolean has(Layer layer) {
        return layers.contains(layer);
    }

    /** Whether any layer is in force. */
    public boolean enabled() {
        return !layers.isEmpty();
    }

    /** The layers in force, in the order of {@link Layer}, as their labels; landlock with its ABI. */
    public List<String> layers() {
        List<String> out = new ArrayList<>();
        for (Layer l : Layer.values()) {
            if (layers.contains(l)) {
                out.add(l == Layer.LANDLOCK ? l.label() + " (ABI " + landlockAbi + ")" : l.label());
            }
        }
        return out;
    }

    /** Why each layer not in force is missing (empty when all are in force or the mode is off). */
    public List<String> missing() {
        return missing;
    }

    /** One line for banners and logs, e.g. {@code auto: jail, session-namespaces, landlock (ABI 7); no network}. */
    public String summary() {
        if (mode == Mode.OFF) {
            return "off: session code can read the data directory, signal other processes and use the network";
        }
        return mode + ": " + (layers.isEmpty() ? "no layer available" : String.join(", ", layers()))
                + (networkAllowed ? "; network allowed" : "; no network")
                + (missing.isEmpty() ? "" : "; missing: " + String.join("; ", missing));
    }

    /** The uid the jailed processes run as on the host, or -1 when they keep the server's. */
    public int hostUid() {
        return has(Layer.JAIL) && root ? UNPRIVILEGED_UID : -1;
    }

    /**
     * Makes {@code path} (a directory or socket made for jailed processes) theirs: owned by
     * {@link #hostUid()} when that is not the server's. Does nothing otherwise.
     *
     * @throws TetherException {@code runtime_unavailable} when it cannot be changed
     */
    public void handOver(Path path) {
        int uid = hostUid();
        if (uid < 0) {
            return;
        }
        try {
            Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(path, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException e) {
            throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE, "cannot hand " + path
                    + " to the sandbox's user " + uid + ": " + e.getMessage(), e);
        }
    }

    /**
     * The command that runs {@code program} in the jail, or {@code program} itself when the
     * jail is not in force.
     *
     * @param readOnly     paths mounted read-only (besides the system's), where they are
     * @param readWrite    paths mounted read-write, where they are
     * @param work         a working directory, or the root of them, mounted read-write at
     *                     {@code workInJail}: {@link #JAIL_WORK_ROOT} or {@link #inJail}; or null
     * @param ownPids      whether the jail gets its own PID namespace and {@code /proc} (a
     *                     process per session); else the host's PIDs, for a fork server
     * @param network      whether the jail keeps the host's network (only for a worker whose
     *                     session asked for it, where {@link #networkAllowed()})
     * @param directory    the directory the program starts in, as the jail sees it
     */
    public List<String> command(Collection<Path> readOnly, Collection<Path> readWrite, Path work, Path workInJail,
                                boolean ownPids, boolean network, Path directory, List<String> program) {
        if (!has(Layer.JAIL)) {
            return program;
        }
        List<String> cmd = new ArrayList<>();
        if (root) {
            cmd.addAll(List.of(SETPRIV.toString(), "--reuid=" + UNPRIVILEGED_UID, "--regid=" + UNPRIVILEGED_UID,
                    "--clear-groups", "--"));
        }
        cmd.addAll(List.of(bwrap.toString(), "--unshare-user", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session"));
        if (!network) {
            cmd.add("--unshare-net");
        }
        if (ownPids) {
            cmd.addAll(List.of("--unshare-pid", "--proc", "/proc"));
        } else {
            // The host's /proc as is: a session's init can mount its own /proc only where a
            // whole one is visible (bubblewrap's --proc covers parts of it).
            cmd.addAll(List.of("--bind", "/proc", "/proc"));
        }
        cmd.addAll(List.of("--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"));
        for (String p : SYSTEM_LINKS) {
            Path path = Path.of(p);
            if (Files.isSymbolicLink(path)) {
                try {
                    cmd.addAll(List.of("--symlink", Files.readSymbolicLink(path).toString(), p));
                } catch (IOException e) {
                    // unreadable link: the jail goes without it
                }
            } else if (Files.isDirectory(path)) {
                cmd.addAll(List.of("--ro-bind", p, p));
            }
        }
        cmd.addAll(List.of("--dev", "/dev", "--tmpfs", "/tmp"));
        for (Path p : readOnly) {
            if (!covered(p)) {
                cmd.addAll(List.of("--ro-bind", p.toString(), p.toString()));
            }
        }
        for (Path p : hidden) {
            if (covered(p) && Files.isDirectory(p)) {
                cmd.addAll(List.of("--tmpfs", p.toString()));
            }
        }
        for (Path p : readWrite) {
            cmd.addAll(List.of("--bind", p.toString(), p.toString()));
        }
        if (work != null) {
            cmd.addAll(List.of("--bind", work.toString(), workInJail.toString()));
        }
        cmd.addAll(List.of("--chdir", directory.toString(), "--"));
        cmd.addAll(program);
        return cmd;
    }

    /**
     * Where a working directory is seen from inside the jail: its name under
     * {@link #JAIL_WORK_ROOT}, so that session code learns nothing of the host's layout and no
     * session's private {@code /tmp} can cover it; the path itself without a jail.
     */
    public Path inJail(Path workingDirectory) {
        return has(Layer.JAIL) ? JAIL_WORK_ROOT.resolve(workingDirectory.getFileName()) : workingDirectory;
    }

    /**
     * A cgroup for one worker's process tree, capped at the worker's memory limit and
     * process limit (0 = none), or null when the cgroup layer is not in force. The caller
     * {@linkplain CgroupSlot#add adds} the worker's processes before any user code runs and
     * closes the slot when the worker is gone (which kills whatever is left in it).
     *
     * @throws TetherException {@code runtime_unavailable} when the kernel refuses the group
     */
    public CgroupSlot newSlot(long memoryBytes, int maxProcesses) {
        if (cgroups == null) {
            return null;
        }
        return cgroups.newSlot(memoryBytes, maxProcesses);
    }

    /**
     * Moves {@code pid} and every process it has started into {@code slot}; does nothing for
     * a null slot. For a worker that has started but runs no user code yet, so nothing forks
     * meanwhile.
     *
     * @throws TetherException {@code runtime_unavailable} when the kernel refuses
     */
    public static void join(CgroupSlot slot, long pid) {
        if (slot == null) {
            return;
        }
        slot.add(pid);
        for (long child : LinuxProcesses.descendants(pid)) {
            slot.add(child);
        }
    }

    /** Whether {@code p} is inside what every jail mounts anyway. */
    private static boolean covered(Path p) {
        return p.startsWith("/usr") || p.startsWith("/etc");
    }

    /**
     * The {@code --sandbox} argument of {@code worker.py}: what the Python side applies per
     * session (see {@code sandbox.py}).
     *
     * @param readOnly  paths a session may read (and execute) besides its working directory
     * @param hide      paths to cover in each session's mount namespace
     * @param work        where the working directories are, as the jail sees them
     * @param network     whether the worker may use the network (a session that asked for it)
     */
    public String pythonConfig(Collection<Path> readOnly, Collection<Path> hide, Path work, boolean network) {
        Set<String> ro = new LinkedHashSet<>(List.of("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64"));
        readOnly.forEach(p -> ro.add(p.toString()));
        StringBuilder b = new StringBuilder();
        b.append("network=").append(network ? 1 : 0);
        b.append(";sessions=").append(has(Layer.SESSION_NAMESPACES) ? 1 : 0);
        b.append(";landlock=").append(has(Layer.LANDLOCK) ? landlockAbi : 0);
        b.append(";ro=").append(String.join(":", ro));
        // Each session gets a /tmp of its own, unless that would cover the working directories
        // (no jail, and they are under /tmp): then it has none.
        boolean privateTmp = !work.startsWith("/tmp");
        b.append(";tmp=").append(privateTmp ? "64m" : "0");
        List<String> h = new ArrayList<>();
        for (Path p : hide) {
            if (!privateTmp || !p.startsWith("/tmp")) { // a private /tmp covers these already
                h.add(p.toString());
            }
        }
        b.append(";hide=").append(String.join(":", h));
        return b.toString();
    }

    @Override
    public String toString() {
        return "Sandbox[" + summary() + "]";
    }

    /** Configures and probes a {@link Sandbox}. Not thread-safe; each option may be set once. */
    public static final class Builder {
        private Mode mode;
        private Boolean networkAllowed;
        private Path bwrap;
        private Path python;
        private List<Path> hidden;
        private Path workRoot;

        private Builder() {
        }

        /**
         * Where the working directories will be (created if missing): when Tether runs as
         * root, the jail's user must be able to reach it, else the jail is missing (naming
         * the directory in the way). Default unchecked. @throws IllegalStateException when set twice
         */
        public Builder workRoot(Path root) {
            SetOnce.check(this.workRoot, "workRoot");
            this.workRoot = root.toAbsolutePath().normalize();
            return this;
        }

        /** The mode; default {@link Mode#AUTO}. @throws IllegalStateException when set twice */
        public Builder mode(Mode mode) {
            SetOnce.check(this.mode, "mode");
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Whether session code may use the network; default {@code false}. @throws IllegalStateException when set twice */
        public Builder networkAllowed(boolean allowed) {
            SetOnce.check(this.networkAllowed, "networkAllowed");
            this.networkAllowed = allowed;
            return this;
        }

        /**
         * Paths that must stay invisible even where the jail mounts their parents (the data
         * directory). Default none. @throws IllegalStateException when set twice
         */
        public Builder hide(List<Path> paths) {
            SetOnce.check(this.hidden, "hide");
            this.hidden = paths.stream().map(p -> p.toAbsolutePath().normalize()).toList();
            return this;
        }

        /** bubblewrap; default {@code /usr/bin/bwrap}, else {@code bwrap} on the PATH. @throws IllegalStateException when set twice */
        public Builder bwrap(Path bwrap) {
            SetOnce.check(this.bwrap, "bwrap");
            this.bwrap = Objects.requireNonNull(bwrap, "bwrap");
            return this;
        }

        /** The Python that runs the probe; default {@code /usr/bin/python3}. @throws IllegalStateException when set twice */
        public Builder python(Path python) {
            SetOnce.check(this.python, "python");
            this.python = Objects.requireNonNull(python, "python");
            return this;
        }

        /**
         * Probes the host and builds the sandbox.
         *
         * @throws TetherException {@code runtime_unavailable} in {@link Mode#REQUIRED} when a
         *     layer is missing, naming it and why
         */
        public Sandbox build() {
            Mode m = mode != null ? mode : Mode.AUTO;
            boolean net = networkAllowed != null && networkAllowed;
            if (m == Mode.OFF) {
                return off();
            }
            Path py = python != null ? python : Path.of("/usr/bin/python3");
            Path bw = bwrap != null ? bwrap : findBwrap();
            List<Path> hide = hidden != null ? hidden : List.of();
            boolean root = runningAsRoot();
            Set<Layer> layers = new LinkedHashSet<>();
            List<String> missing = new ArrayList<>();
            Probe jailed = null;
            if (bw == null) {
                missing.add("jail: bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)");
            } else if (root && !Files.isExecutable(SETPRIV)) {
                missing.add("jail: " + SETPRIV + " (util-linux) is needed to leave root");
            } else if (root && workRoot != null && closedTo(workRoot) != null) {
                missing.add("jail: the jail's user " + UNPRIVILEGED_UID + " cannot reach the work root " + workRoot
                        + " because " + closedTo(workRoot) + " is closed to others (needs o+x); move the data "
                        + "directory or run Tether as an ordinary user");
            } else {
                Sandbox candidate = new Sandbox(m, net, bw, Set.of(Layer.JAIL), 0, List.of(), hide, root, null);
                jailed = Probe.run(candidate, py);
                if (jailed.ran()) {
                    layers.add(Layer.JAIL);
                } else {
                    missing.add("jail: bubblewrap cannot start here: " + jailed.failure());
                }
            }
            Probe probe = jailed != null && jailed.ran() ? jailed : Probe.run(off(), py);
            if (probe.sessions()) {
                layers.add(Layer.SESSION_NAMESPACES);
            } else {
                missing.add("session-namespaces: " + (probe.ran() ? "user namespaces with a PID namespace and "
                        + "its own /proc cannot be made here" : probe.failure()));
            }
            if (probe.landlockAbi() > 0) {
                layers.add(Layer.LANDLOCK);
            } else {
                missing.add("landlock: " + (probe.ran() ? "the kernel has no Landlock (Linux 5.13+ with lsm=landlock)"
                        : probe.failure()));
            }
            Cgroups groups = null;
            switch (JvmCgroups.get()) {
                case Cgroups.Available a -> {
                    groups = a.cgroups();
                    layers.add(Layer.CGROUP);
                }
                case Cgroups.Unavailable u -> missing.add("cgroup: " + u.reason());
            }
            if (m == Mode.REQUIRED && !missing.isEmpty()) {
                throw new TetherException(ErrorCode.RUNTIME_UNAVAILABLE,
                        "sandbox = required, but a layer is missing: " + String.join("; ", missing));
            }
            Sandbox s = new Sandbox(m, net, bw, layers, probe.landlockAbi(), missing, hide, root, groups);
            if (!missing.isEmpty()) {
                log.warn("sandbox {}", s.summary());
            }
            return s;
        }

        /** The first directory on the way to {@code dir} (created if missing) that others cannot pass, or null. */
        private static Path closedTo(Path dir) {
            try {
                Files.createDirectories(dir);
                for (Path p = dir; p != null; p = p.getParent()) {
                    if (!Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                        return p;
                    }
                }
                return null;
            } catch (IOException | UnsupportedOperationException e) {
                return dir;
            }
        }

        private static Path findBwrap() {
            if (Files.isExecutable(DEFAULT_BWRAP)) {
                return DEFAULT_BWRAP;
            }
            String path = System.getenv("PATH");
            if (path != null) {
                for (String dir : path.split(":")) {
                    Path p = Path.of(dir.isEmpty() ? "." : dir, "bwrap");
                    if (Files.isExecutable(p)) {
                        return p.toAbsolutePath();
                    }
                }
            }
            return null;
        }

    }

    /**
     * Whether this process runs as root: the jail then runs session code as
     * {@value #UNPRIVILEGED_UID}, which must be able to pass through to the work root.
     */
    public static boolean runningAsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** What {@code sandbox.py --probe} said, run in the jail or not. */
    record Probe(boolean ran, String failure, int landlockAbi, boolean sessions) {
        static Probe run(Sandbox jail, Path python) {
            Path dir = ScriptDirectory.get();
            List<String> program = List.of(python.toString(), "-S", "-E", "-B", dir.resolve("sandbox.py").toString());
            List<String> cmd = jail.command(List.of(dir, python.toAbsolutePath().getParent()), List.of(), null, null,
                    false, false, Path.of("/"), program);
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                p.getOutputStream().close();
                byte[] out = p.getInputStream().readNBytes(64 << 10);
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Probe(false, "the probe did not finish in 10 s", 0, false);
                }
                String text = new String(out, StandardCharsets.UTF_8);
                int abi = -1;
                boolean sessions = false;
                for (String line : text.split("\n")) {
                    if (line.startsWith("landlock=")) {
                        abi = Integer.parseInt(line.substring(9).trim());
                    } else if (line.startsWith("sessions=")) {
                        sessions = line.substring(9).trim().equals("1");
                    }
                }
                if (p.exitValue() != 0 || abi < 0) {
                    return new Probe(false, "the probe exited with " + p.exitValue() + ": " + text.strip(), 0, false);
                }
                return new Probe(true, "", abi, sessions);
            } catch (IOException | RuntimeException e) {
                return new Probe(false, e.toString(), 0, false);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Probe(false, "interrupted", 0, false);
            }
        }
    }
}
