package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.python.PythonRuntime;
import io.tether.testing.Confinement;
import io.tether.testing.Eventually;
import io.tether.testing.HostProcesses;
import io.tether.testing.OpenDirectories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/**
 * What every attack test class shares: a data directory laid out as the server's (an admin
 * token, a token file, a database, the work root {@code data/work}), and two Python runtimes
 * on that work root started once per class: one in the sandbox with every layer the host
 * offers (all must be there), one with the sandbox off. A test starts its sessions with
 * {@link #session}; after each test they are closed, and the processes of the runtimes are
 * counted by pid until they are as many as before the test: no test may leave one behind.
 *
 * <p>The data directory is not under {@code /tmp} (see {@link OpenDirectories}), and its files
 * are readable by everyone: only the sandbox keeps session code from them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AttackFixture {
    static final Duration RUN_TIMEOUT = Duration.ofSeconds(30);
    /** How long everything a session started may take to be gone once it ended. */
    static final Duration GONE_WITHIN = Duration.ofSeconds(1);

    final String adminToken = "tok_admin_" + UUID.randomUUID();
    Path base;
    Path data;
    Path work;
    final Map<Confinement, PythonRuntime> runtimes = new EnumMap<>(Confinement.class);
    private final List<Worker> workers = new ArrayList<>();
    /** Processes a test saw escape its session (sandbox off): killed after the test. */
    private final Set<Long> escaped = new LinkedHashSet<>();
    private int baseline;

    @BeforeAll
    void startRuntimes() throws IOException {
        // The jail's user (nobody, when the tests run as root) must reach the work root.
        base = OpenDirectories.create("attacks-");
        data = Files.createDirectory(base.resolve("data"));
        work = Files.createDirectory(data.resolve("work"));
        write(data.resolve("admin-token"), adminToken + "\n");
        write(data.resolve("tokens.json"), "{\"tokens\": [\"secret-of-tokens-json\"]}\n");
        write(data.resolve("tether.db"), "SQLite format 3\0secret-of-tether-db");
        Sandbox sandbox = Sandbox.builder().workRoot(work).hide(List.of(data)).build();
        assertThat(sandbox.missing()).as("sandbox layers missing on this host").isEmpty();
        runtimes.put(Confinement.SANDBOXED, PythonRuntime.builder().workRoot(work).sandbox(sandbox)
                .forkServer(forkServer()).build());
        runtimes.put(Confinement.UNCONFINED, PythonRuntime.builder().workRoot(work).sandbox(Sandbox.off())
                .forkServer(forkServer()).build());
        for (PythonRuntime rt : runtimes.values()) {
            rt.start(WorkerOptions.DEFAULTS).close(); // the fork server runs from now on
        }
    }

    private static void write(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /**
     * Whether workers are forked from the fork server (the default, and every session without
     * network) or each started cold in a jail of its own (a session with network, or a runtime
     * whose fork server failed): see the {@code Cold...} subclasses.
     */
    boolean forkServer() {
        return true;
    }

    @AfterAll
    void closeRuntimes() {
        runtimes.values().forEach(PythonRuntime::close);
        if (base != null) {
            WorkDirectories.delete(base);
        }
    }

    @BeforeEach
    void countProcesses() {
        baseline = settledCount();
    }

    /**
     * The runtimes' processes as many as before the test, once its sessions are closed and
     * what escaped them (sandbox off) is killed; the fork servers replace their spares.
     */
    @AfterEach
    void nothingIsLeftBehind() {
        workers.forEach(Worker::close);
        workers.clear();
        escaped.forEach(HostProcesses::kill);
        for (long pid : escaped) {
            Eventually.eventually(Duration.ofSeconds(5), "escaped pid " + pid + " killed", () -> !HostProcesses.running(pid));
        }
        escaped.clear();
        Eventually.eventually(Duration.ofSeconds(5), "as many processes as before the test (" + baseline + "): "
                + HostProcesses.ours(base), () -> HostProcesses.ours(base).size() == baseline);
    }

    /** The runtimes' processes once the fork servers have their spares (two readings agree). */
    private int settledCount() {
        int[] last = {-1};
        Eventually.eventually(Duration.ofSeconds(5), "the process count settles", () -> {
            int now = HostProcesses.ours(base).size();
            boolean same = now == last[0];
            last[0] = now;
            return same;
        });
        return last[0];
    }

    /** A new session's worker; closed after the test. */
    Worker session(Confinement c) {
        return session(c, WorkerLimits.DEFAULTS);
    }

    Worker session(Confinement c, WorkerLimits limits) {
        Worker w = runtimes.get(c).start(new WorkerOptions(limits));
        workers.add(w);
        return w;
    }

    /** Kills {@code hostPid} after the test (it escaped its session where that is allowed). */
    void killAfterTest(long hostPid) {
        escaped.add(hostPid);
    }

    static ExecutionResult run(Worker w, String code) {
        return w.execute(new ExecutionRequest(1, code, RUN_TIMEOUT), OutputListener.NONE);
    }

    /** Runs {@code code}, which must succeed, and returns its value as JSON data. */
    static Object value(Worker w, String code) {
        ExecutionResult r = run(w, code);
        assertThat(r.status()).as(describe(r)).isEqualTo(ExecutionStatus.OK);
        return r.result().get("application/json");
    }

    /**
     * The attack's outcome: in the sandbox it must have raised {@code refusal} (a regular
     * expression over {@code "Name: message"}, e.g. {@code PermissionError: \[Errno 13\].*}),
     * with the sandbox off it must have returned {@code stolen} (its JSON value).
     */
    static void assertAttack(Confinement c, ExecutionResult r, String refusal, Object stolen) {
        if (c.sandboxed()) {
            assertRefused(r, refusal);
        } else {
            assertThat(r.status()).as("the attack works without the sandbox: %s", describe(r)).isEqualTo(ExecutionStatus.OK);
            assertThat(r.result().get("application/json")).as(describe(r)).isEqualTo(stolen);
        }
    }

    static void assertRefused(ExecutionResult r, String refusal) {
        assertThat(r.status()).as("refused: %s", describe(r)).isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.error().name() + ": " + r.error().value()).matches(refusal);
    }

    static String describe(ExecutionResult r) {
        return r.status() + " " + (r.error() != null ? r.error().name() + ": " + r.error().value() : r.result())
                + (r.stderr().isEmpty() ? "" : " stderr: " + r.stderr());
    }

    /** {@code s} as a Python string literal. */
    static String py(Object s) {
        return "'" + s.toString().replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** Where session code finds {@code hostDir} (a working directory): in the jail, or the host path itself. */
    Path seenBySession(Confinement c, Path hostDir) {
        return runtimes.get(c).sandbox().inJail(hostDir);
    }

    static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** The host pid of the process {@code w}'s session calls {@code inside} (the same without namespaces). */
    static long hostPid(Worker w, long inside) {
        // A process that is being re-parented (its parent just exited) can be missed by one
        // look at /proc: look again for a moment.
        long host = HostPids.of(w.pid(), inside);
        for (long deadline = System.nanoTime() + 2_000_000_000L; host <= 0 && System.nanoTime() < deadline; ) {
            Thread.onSpinWait();
            host = HostPids.of(w.pid(), inside);
        }
        assertThat(host).as("host pid of session pid %d", inside).isPositive();
        return host;
    }

    /**
     * How an attempt on another session's directory is refused: in the fork server's jail
     * every session's directory is there and Landlock refuses; a cold worker's jail has its
     * own directory only.
     */
    String otherSessionRefused() {
        return forkServer() ? PERMISSION_DENIED : NO_SUCH_FILE;
    }

    static final String PERMISSION_DENIED = "PermissionError: \\[Errno 13\\] Permission denied.*";
    static final String NO_SUCH_FILE = "FileNotFoundError: \\[Errno 2\\] No such file or directory.*";
    static final String NO_SUCH_PROCESS = "ProcessLookupError: \\[Errno 3\\] No such process.*";
}
