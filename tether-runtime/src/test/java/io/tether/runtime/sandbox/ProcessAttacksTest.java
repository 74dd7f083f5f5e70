package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Worker;
import io.tether.runtime.python.ForkServers;
import io.tether.testing.Confinement;
import io.tether.testing.Eventually;
import io.tether.testing.HostProcesses;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A session's code sees, signals and traces its own processes only: not another session's
 * worker, not the fork server, not the JVM.
 */
class ProcessAttacksTest extends AttackFixture {
    private static final long JVM = ProcessHandle.current().pid();

    /** The host pid of {@code w}'s interpreter (inside a sandbox the JVM knows its session's init). */
    private static long interpreter(Worker w) {
        return hostPid(w, (Long) value(w, "import os\nos.getpid()"));
    }

    /** The JVM, and the fork server when workers are forked from one. */
    private List<Long> outsiders(Confinement c) {
        if (!forkServer()) {
            return List.of(JVM);
        }
        long pid = ForkServers.pid(runtimes.get(c));
        assertThat(pid).as("the fork server runs").isPositive();
        return List.of(JVM, pid);
    }

    private static final String PIDS = "import os\nsorted(int(p) for p in os.listdir('/proc') if p.isdigit())";

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionSeesOnlyItsOwnProcessesInProc(Confinement c) {
        Worker victim = session(c);
        long victimPid = interpreter(victim);
        Worker w = session(c);
        @SuppressWarnings("unchecked")
        List<Long> seen = (List<Long>) value(w, PIDS);
        if (c.sandboxed()) {
            assertThat(seen).as("its init and its worker").containsExactly(1L, 2L);
        } else {
            assertThat(seen).as("the attack works without the sandbox").containsAll(outsiders(c)).contains(victimPid);
        }
        @SuppressWarnings("unchecked")
        List<Long> withChild = (List<Long>) value(w, "import subprocess\np = subprocess.Popen(['sleep', '60'])\n"
                + "seen = " + PIDS.substring(PIDS.indexOf('\n') + 1) + "\np.kill()\np.wait()\n[p.pid] + seen");
        if (c.sandboxed()) {
            assertThat(withChild.subList(1, withChild.size())).as("and what it started")
                    .containsExactly(1L, 2L, withChild.get(0));
        }
        assertThat(value(w, "import os\nos.path.exists('/proc/%d') or os.path.exists('/proc/%d')".formatted(JVM,
                victimPid))).isEqualTo(!c.sandboxed());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotKillAnotherSessionsWorker(Confinement c) {
        Worker victim = session(c);
        value(victim, "kept = 42");
        long victimPid = interpreter(victim);
        ExecutionResult r = run(session(c), "import os, signal\nos.kill(%d, signal.SIGKILL)".formatted(victimPid));
        if (c.sandboxed()) {
            assertRefused(r, NO_SUCH_PROCESS);
            assertThat(value(victim, "kept")).as("the victim still works").isEqualTo(42L);
            assertThat(HostProcesses.running(victimPid)).isTrue();
        } else {
            assertThat(r.status()).as("the attack works without the sandbox: %s", describe(r)).isEqualTo(ExecutionStatus.OK);
            Eventually.eventually(Duration.ofSeconds(5), "the victim killed", () -> !HostProcesses.running(victimPid));
            assertThat(run(victim, "kept").status()).isEqualTo(ExecutionStatus.CRASHED);
        }
    }

    /** SIGCONT: delivered without harm when the attack works, so the test JVM survives it. */
    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotSignalTheJvmOrTheForkServer(Confinement c) {
        Worker w = session(c);
        for (long target : outsiders(c)) {
            ExecutionResult r = run(w, "import os, signal\nos.kill(%d, signal.SIGCONT)".formatted(target));
            assertAttack(c, r, NO_SUCH_PROCESS, null);
        }
        ExecutionResult group = run(w, "import os, signal\nos.killpg(%d, signal.SIGCONT)".formatted(JVM));
        if (c.sandboxed()) {
            assertRefused(group, NO_SUCH_PROCESS);
        }
        assertThat(value(session(c), "6 * 7")).as("the runtime still works").isEqualTo(42L);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadAnotherWorkersMemory(Confinement c) {
        Worker victim = session(c);
        value(victim, "secret = b'secret-in-memory-' + b'%d' % 12345");
        long victimPid = interpreter(victim);
        // Reads the victim's first readable mapping: enough to prove access.
        ExecutionResult r = run(session(c), ("""
                start = None
                for line in open('/proc/%d/maps'):
                    addr, perms = line.split()[:2]
                    if perms.startswith('r'):
                        start = int(addr.split('-')[0], 16)
                        break
                with open('/proc/%d/mem', 'rb') as mem:
                    mem.seek(start)
                    n = len(mem.read(16))
                n""").formatted(victimPid, victimPid));
        assertAttack(c, r, NO_SUCH_FILE, 16L);
        assertThat(value(victim, "len(secret)")).isEqualTo(22L);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotPtraceAnotherWorker(Confinement c) {
        Worker victim = session(c);
        value(victim, "kept = 42");
        long victimPid = interpreter(victim);
        ExecutionResult r = run(session(c), ("""
                import ctypes, os
                libc = ctypes.CDLL(None, use_errno=True)
                libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
                PTRACE_ATTACH, PTRACE_DETACH = 16, 17
                if libc.ptrace(PTRACE_ATTACH, %d, None, None) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, os.strerror(e))
                os.waitpid(%d, os.WUNTRACED | 0x40000000)  # __WALL: it stopped for us
                libc.ptrace(PTRACE_DETACH, %d, None, None)
                'attached'""").formatted(victimPid, victimPid, victimPid));
        assertAttack(c, r, NO_SUCH_PROCESS, "attached");
        assertThat(value(victim, "kept")).as("the victim still works").isEqualTo(42L);
    }

    /**
     * The server's environment is the operator's (its settings, often a token or a cloud
     * provider's keys): a session keeps its path, locale and time zone only.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotReadTheServersEnvironment(Confinement c) {
        Map<String, String> operators = new TreeMap<>(System.getenv());
        operators.keySet().removeIf(k -> Set.of("PATH", "LANG", "LANGUAGE", "TZ").contains(k) || k.startsWith("LC_"));
        assertThat(operators).as("the test's own environment has something to steal").isNotEmpty();
        @SuppressWarnings("unchecked")
        Map<String, Object> seen = (Map<String, Object>) value(session(c), "import os\ndict(os.environ)");
        // With or without the sandbox: the runtime hands workers none of the server's environment
        // (only PATH, LANG and its worker_env allow-list), so the protection is not the jail's.
        // That the same observation does see a variable once it is allowed, which proves this
        // check can fail, is PackagesTest.workersGetNoneOfTheJvmsEnvironmentUnlessAllowed.
        assertThat(operators.entrySet()).filteredOn(e -> e.getValue().equals(seen.get(e.getKey())))
                .as("the server's variables the session sees").isEmpty();
    }
}
