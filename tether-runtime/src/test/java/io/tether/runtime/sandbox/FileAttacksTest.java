package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tether.runtime.ExecutionResult;
import io.tether.runtime.Worker;
import io.tether.testing.Confinement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A session's code reaches no file but its own: not the server's data directory, not
 * another session's directory (by any path: the host's, the jail's, a link, {@code /proc}),
 * not the work root, not another session's {@code /dev/shm}, not {@code /etc/shadow}.
 */
class FileAttacksTest extends AttackFixture {

    /** A session whose directory holds {@code secret.txt}; the attacks aim at it. */
    private Worker victim(Confinement c, String secret) {
        Worker v = session(c);
        value(v, "open('secret.txt', 'w').write(" + py(secret) + ")");
        return v;
    }

    private static String secret() {
        return "secret-" + UUID.randomUUID();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadTheAdminToken(Confinement c) {
        ExecutionResult r = run(session(c), "open(" + py(data.resolve("admin-token")) + ").read().strip()");
        assertAttack(c, r, NO_SUCH_FILE, adminToken);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadTheTokenFileOrTheDatabase(Confinement c) {
        Worker w = session(c);
        assertAttack(c, run(w, "open(" + py(data.resolve("tokens.json")) + ").read()"), NO_SUCH_FILE,
                "{\"tokens\": [\"secret-of-tokens-json\"]}\n");
        assertAttack(c, run(w, "open(" + py(data.resolve("tether.db")) + ", 'rb').read().endswith(b'secret-of-tether-db')"),
                NO_SUCH_FILE, true);
        assertAttack(c, run(w, "import os\nsorted(os.listdir(" + py(data) + "))"), NO_SUCH_FILE,
                List.of("admin-token", "tether.db", "tokens.json", "work"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadAnotherSessionsDirectoryByItsHostPath(Confinement c) {
        String secret = secret();
        Path other = victim(c, secret).workingDirectory();
        Worker w = session(c);
        assertAttack(c, run(w, "import os\nos.listdir(" + py(other) + ")"), NO_SUCH_FILE, List.of("secret.txt"));
        assertAttack(c, run(w, "open(" + py(other.resolve("secret.txt")) + ").read()"), NO_SUCH_FILE, secret);
        assertAttack(c, run(w, "open(" + py(other.resolve("planted.py")) + ", 'w').write('x = 1')"), NO_SUCH_FILE, 5L);
        assertThat(other.resolve("planted.py").toFile().exists()).isEqualTo(!c.sandboxed());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotListReadOrWriteAnotherSessionsDirectoryWhereTheJailShowsIt(Confinement c) {
        String secret = secret();
        Worker victim = victim(c, secret);
        Path other = seenBySession(c, victim.workingDirectory());
        if (c.sandboxed()) {
            assertThat(other.startsWith(Sandbox.JAIL_WORK_ROOT)).as("%s is in the jail", other).isTrue();
        }
        Worker w = session(c);
        assertAttack(c, run(w, "import os\nos.listdir(" + py(other) + ")"), otherSessionRefused(), List.of("secret.txt"));
        assertAttack(c, run(w, "open(" + py(other.resolve("secret.txt")) + ").read()"), otherSessionRefused(), secret);
        assertAttack(c, run(w, "open(" + py(other.resolve("planted.py")) + ", 'w').write('x = 1')"), otherSessionRefused(), 5L);
        assertAttack(c, run(w, "import os\nos.rename(" + py(other.resolve("secret.txt")) + ", 'taken.txt')\n"
                + "open('taken.txt').read()"), otherSessionRefused(), secret);
        if (c.sandboxed()) {
            assertThat(value(victim, "open('secret.txt').read()")).isEqualTo(secret);
            assertThat(victim.workingDirectory().resolve("planted.py")).doesNotExist();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotListTheWorkRoot(Confinement c) {
        Worker victim = session(c);
        Worker w = session(c);
        Path root = seenBySession(c, w.workingDirectory()).getParent();
        ExecutionResult r = run(w, "import os\n" + py(victim.workingDirectory().getFileName()) + " in os.listdir("
                + py(root) + ")");
        assertAttack(c, r, PERMISSION_DENIED, true);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void aSymbolicLinkOutOfTheSessionLeadsNowhere(Confinement c) {
        String secret = secret();
        Path other = seenBySession(c, victim(c, secret).workingDirectory());
        Worker w = session(c);
        value(w, "import os\nos.symlink(" + py(other.resolve("secret.txt")) + ", 'theirs')\n"
                + "os.symlink(" + py(data.resolve("admin-token")) + ", 'token')");
        assertAttack(c, run(w, "open('theirs').read()"), otherSessionRefused(), secret);
        assertAttack(c, run(w, "open('token').read().strip()"), NO_SUCH_FILE, adminToken);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void aHardLinkToAFileOutsideTheSessionCannotBeMade(Confinement c) {
        String secret = secret();
        Path other = seenBySession(c, victim(c, secret).workingDirectory());
        Worker w = session(c);
        // Landlock refuses a link that would give a file a second name in another domain (EXDEV).
        assertAttack(c, run(w, "import os\nos.link(" + py(other.resolve("secret.txt")) + ", 'theirs')\n"
                + "open('theirs').read()"), forkServer()
                ? "(PermissionError: \\[Errno 13\\]|OSError: \\[Errno 18\\] Invalid cross-device link).*" : NO_SUCH_FILE, secret);
        assertAttack(c, run(w, "import os\nos.link(" + py(data.resolve("admin-token")) + ", 'token')\n"
                + "open('token').read().strip()"), NO_SUCH_FILE, adminToken);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void procSelfRootLeadsOnlyToTheJail(Confinement c) {
        String secret = secret();
        Path other = seenBySession(c, victim(c, secret).workingDirectory());
        Worker w = session(c);
        assertAttack(c, run(w, "open('/proc/self/root' + " + py(data.resolve("admin-token")) + ").read().strip()"),
                NO_SUCH_FILE, adminToken);
        assertAttack(c, run(w, "open('/proc/self/root' + " + py(other.resolve("secret.txt")) + ").read()"),
                otherSessionRefused(), secret);
    }

    /**
     * {@code /proc/<pid>/root} of a process outside the session would be the way around a
     * mount namespace: the session sees none (the JVM's pid names nothing in it), and its
     * own PID 1, the init, which holds capabilities the worker dropped, is out of reach.
     * Without the sandbox the JVM's root is the host's; the host's PID 1 may guard its own
     * (this one does), so only the JVM's is used to show it.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource
    void procRootOfAProcessOutsideTheSessionLeadsNowhere(Confinement c) {
        String secret = secret();
        Path other = seenBySession(c, victim(c, secret).workingDirectory());
        Worker w = session(c);
        String jvmRoot = "/proc/" + ProcessHandle.current().pid() + "/root";
        assertAttack(c, run(w, "open(" + py(jvmRoot + data.resolve("admin-token")) + ").read().strip()"),
                NO_SUCH_FILE, adminToken);
        assertAttack(c, run(w, "open(" + py(jvmRoot + other.resolve("secret.txt")) + ").read()"), NO_SUCH_FILE, secret);
        if (c.sandboxed()) {
            assertRefused(run(w, "import os\nos.listdir('/proc/1/root')"), PERMISSION_DENIED);
            assertRefused(run(w, "open('/proc/1/root' + " + py(other.resolve("secret.txt")) + ").read()"),
                    PERMISSION_DENIED);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sharedMemoryIsNotShared(Confinement c) throws Exception {
        assertOneSessionsFileIsNotAnothers(c, "/dev/shm/tether-attack-" + UUID.randomUUID());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void tmpIsNotShared(Confinement c) throws Exception {
        assertOneSessionsFileIsNotAnothers(c, "/tmp/tether-attack-" + UUID.randomUUID());
    }

    /** One session writes {@code name}; another must not find it, nor the host (the sandbox gives each its own). */
    private void assertOneSessionsFileIsNotAnothers(Confinement c, String name) throws Exception {
        try {
            String secret = secret();
            Worker writer = session(c);
            value(writer, "open(" + py(name) + ", 'w').write(" + py(secret) + ")");
            assertAttack(c, run(session(c), "open(" + py(name) + ").read()"), NO_SUCH_FILE, secret);
            assertThat(Files.exists(Path.of(name))).as("written to the host's " + name).isEqualTo(!c.sandboxed());
            assertThat(value(writer, "open(" + py(name) + ").read()")).as("the writer's own").isEqualTo(secret);
        } finally {
            Files.deleteIfExists(Path.of(name));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadEtcShadow(Confinement c) throws Exception {
        assumeTrue(root(), "only root can read /etc/shadow without the sandbox");
        String first = Files.readAllLines(Path.of("/etc/shadow")).get(0);
        assertAttack(c, run(session(c), "open('/etc/shadow').readline().rstrip('\\n')"), PERMISSION_DENIED, first);
    }
}
