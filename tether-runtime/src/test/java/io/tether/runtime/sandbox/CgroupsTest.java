package io.tether.runtime.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tether.runtime.sandbox.Cgroups.Available;
import io.tether.runtime.sandbox.Cgroups.Availability;
import io.tether.runtime.sandbox.Cgroups.Placement;
import io.tether.runtime.sandbox.Cgroups.Unavailable;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real cgroups, real processes. Needs a host where this process may make cgroups (root
 * on cgroup v1 or hybrid, or a delegated v2 subtree); elsewhere every test is skipped
 * through an assumption, with the reason {@link Cgroups#open} gave. The layout tests
 * (pure v1, v2 without controllers, the JVM moving into a leaf) also skip when the host
 * lacks the hierarchies they build on. Nothing sleeps to wait: conditions are polled
 * against a deadline.
 */
class CgroupsTest {
    static final String PYTHON = "/usr/bin/python3";
    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final long MB = 1024 * 1024;
    static final AtomicInteger SLOT_IDS = new AtomicInteger();

    static Availability host;
    final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void openHostCgroups() {
        host = Cgroups.open("tether-test");
    }

    @AfterAll
    static void closeHostCgroups() {
        host.toOptional().ifPresent(Cgroups::close);
    }

    @AfterEach
    void killStarted() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void addedProcessIsListed() throws Exception {
        try (CgroupSlot slot = cgroups().create(nextId(), 0, 0)) {
            Process sleeper = start(null, "/bin/sleep", "60");
            slot.add(sleeper.pid());
            assertEquals(List.of(sleeper.pid()), slot.pids());
        }
    }

    @Test
    void childForkedByAnAddedProcessIsInTheSlotToo() throws Exception {
        try (CgroupSlot slot = cgroups().create(nextId(), 0, 0)) {
            Process parent = start(null, PYTHON, "-c", """
                    import os, sys, time
                    sys.stdin.readline()
                    child = os.fork()
                    if child == 0:
                        time.sleep(60)
                        os._exit(0)
                    print(child, flush=True)
                    time.sleep(60)
                    """);
            slot.add(parent.pid());
            parent.getOutputStream().write('\n');
            parent.getOutputStream().flush();
            long child = Long.parseLong(firstLine(parent));
            assertEquals(Set.of(parent.pid(), child), Set.copyOf(slot.pids()));
        }
    }

    @Test
    void commandBehindTheJoinPrefixStartsInsideTheSlot() throws Exception {
        try (CgroupSlot slot = cgroups().create(nextId(), 0, 0)) {
            Process p = start(slot, PYTHON, "-c", "import os, time; print(os.getpid(), flush=True); time.sleep(60)");
            long pid = Long.parseLong(firstLine(p));
            assertEquals(p.pid(), pid, "the shell execs the command, keeping its pid");
            assertEquals(List.of(pid), slot.pids());
        }
    }

    @Test
    void memoryHogIsKilledAtTheLimit() throws Exception {
        try (CgroupSlot slot = cgroups().create(nextId(), 100 * MB, 0)) {
            Process hog = start(slot, PYTHON, "-c", "b = b'x' * (300 * 1024 * 1024)\nprint('survived', flush=True)");
            String output = new String(hog.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(hog.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            assertNotEquals(0, hog.exitValue(), output);
            assertFalse(output.contains("survived"), output);
            slot.memoryPeak().ifPresent(peak -> assertTrue(peak <= 100 * MB, "peak " + peak));
        }
    }

    @Test
    void forkLoopFailsAtThePidsLimitWhileProcessesOutsideStillFork() throws Exception {
        String forkLoop = """
                import os, time
                forked = failed = 0
                for i in range(%d):
                    try:
                        pid = os.fork()
                    except OSError:
                        failed += 1
                        continue
                    if pid == 0:
                        time.sleep(%d)
                        os._exit(0)
                    forked += 1
                print(forked, failed, flush=True)
                """;
        try (CgroupSlot slot = cgroups().create(nextId(), 0, 20)) {
            Process bomb = start(slot, PYTHON, "-c", forkLoop.formatted(50, 60));
            String[] inside = firstLine(bomb).split(" ");
            assertTrue(Integer.parseInt(inside[0]) < 20, "forked " + inside[0]);
            assertTrue(Integer.parseInt(inside[1]) >= 30, "failed " + inside[1]);
            assertEquals(20, slot.pids().size(), "the slot is full: the python and its 19 children");

            Process outside = start(null, PYTHON, "-c", forkLoop.formatted(30, 0));
            assertEquals("30 0", firstLine(outside));
        }
    }

    @Test
    void cpuTimeGrowsWithABusyLoop() throws Exception {
        CgroupSlot slot = cgroups().create(nextId(), 0, 0);
        try (slot) {
            assumeTrue(slot.cpuTime().isPresent(), "this layout counts no CPU time");
            Duration before = slot.cpuTime().orElseThrow();
            Process busy = start(slot, PYTHON, "-c", """
                    import time
                    start = time.process_time()
                    while time.process_time() - start < 0.3:
                        pass
                    """);
            assertTrue(busy.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            Duration used = slot.cpuTime().orElseThrow().minus(before);
            assertTrue(used.compareTo(Duration.ofMillis(290)) >= 0, "used " + used);
        }
        assertTrue(slot.cpuTime().orElseThrow().compareTo(Duration.ofMillis(290)) >= 0, "kept after close");
    }

    @Test
    void killAllLeavesNoneOfTheProcessesAlive() throws Exception {
        try (CgroupSlot slot = cgroups().create(nextId(), 0, 0)) {
            List<Long> pids = startTreeWithDaemons(slot);
            assertTrue(slot.killAll());
            assertEquals(List.of(), slot.pids());
            eventually("every process of the tree is gone: " + pids, () -> pids.stream().allMatch(CgroupsTest::gone));
        }
    }

    @Test
    void closeKillsTheProcessesAndRemovesTheDirectories() throws Exception {
        CgroupSlot slot = cgroups().create(nextId(), 64 * MB, 10);
        List<Long> pids = startTreeWithDaemons(slot);
        List<Path> dirs = slot.procsFiles().stream().map(Path::getParent).toList();
        dirs.forEach(d -> assertTrue(Files.isDirectory(d), d.toString()));

        slot.close();
        slot.close();

        dirs.forEach(d -> assertFalse(Files.exists(d), d + " is removed"));
        eventually("every process of the tree is gone: " + pids, () -> pids.stream().allMatch(CgroupsTest::gone));
        assertThrows(IllegalStateException.class, () -> slot.add(pids.getFirst()));
        assertEquals(List.of(), slot.pids());
    }

    @Test
    void closingTheCgroupsRemovesTheirSlotsAndParentGroups() throws Exception {
        cgroups();
        Cgroups own = Cgroups.open("tether-close-test").toOptional().orElseThrow();
        CgroupSlot slot = own.create("left-open", 0, 0);
        Process sleeper = start(slot, "/bin/sleep", "60");
        List<Path> parents = slot.procsFiles().stream().map(f -> f.getParent().getParent()).toList();
        eventually("the sleeper joined", () -> slot.pids().contains(sleeper.pid()));

        own.close();
        own.close();

        parents.forEach(d -> assertFalse(Files.exists(d), d + " is removed"));
        assertTrue(sleeper.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertThrows(IllegalStateException.class, () -> own.create("after-close", 0, 0));
    }

    @Test
    void aSlotIsMadeAheadWithTheLastLimitsTakenByTheNextStartAndRemovedAtClose() throws Exception {
        cgroups();
        Cgroups own = Cgroups.open("tether-ahead-test").toOptional().orElseThrow();
        try {
            CgroupSlot first = own.newSlot(100 * MB, 20);
            Path pids = pidsDir(first).getParent();
            eventually("a slot is made ahead", () -> own.aheadId().isPresent());
            String madeAhead = own.aheadId().orElseThrow();
            assertEquals(List.of(first.id(), madeAhead), slotDirs(pids).stream().sorted().toList());
            assertEquals("20", Files.readString(pids.resolve(madeAhead).resolve("pids.max")).strip());

            CgroupSlot second = own.newSlot(100 * MB, 20);
            assertEquals(madeAhead, second.id(), "the start took the slot made ahead");
            eventually("the next one is made ahead", () -> own.aheadId().isPresent());
            String next = own.aheadId().orElseThrow();
            assertEquals(3, slotDirs(pids).size());

            CgroupSlot other = own.newSlot(0, 0);
            assertNotEquals(next, other.id(), "made ahead with other limits: not taken");
            assertFalse(slotDirs(pids).contains(next), "and removed");
            assertEquals("max", Files.readString(pidsDir(other).resolve("pids.max")).strip(), "its own limits");
            eventually("one with these limits is made ahead", () -> own.aheadId().isPresent());
            assertEquals(4, slotDirs(pids).size());
            Process sleeper = start(null, "/bin/sleep", "60");
            second.add(sleeper.pid());
            assertEquals(List.of(sleeper.pid()), second.pids());
        } finally {
            own.close();
        }
        assertThrows(IllegalStateException.class, () -> own.newSlot(0, 0));
    }

    /** The directory of {@code slot} in the hierarchy that has {@code pids.max}. */
    private static Path pidsDir(CgroupSlot slot) {
        return slot.procsFiles().stream().map(Path::getParent).filter(d -> Files.exists(d.resolve("pids.max")))
                .findFirst().orElseThrow();
    }

    /** The names of the slot directories under {@code parent}. */
    private static List<String> slotDirs(Path parent) {
        try (Stream<Path> list = Files.list(parent)) {
            return list.filter(Files::isDirectory).map(d -> d.getFileName().toString())
                    .filter(n -> !n.equals(ParentGroup.JVM_LEAF)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void namesAndSlotIdsAreCheckedAndUnique() {
        Cgroups cgroups = cgroups();
        assertInstanceOf(Unavailable.class, Cgroups.open("tether-test"), "open once per name");
        assertThrows(IllegalArgumentException.class, () -> Cgroups.open("../x"));
        assertThrows(IllegalArgumentException.class, () -> cgroups.create("../escape", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> cgroups.create("cgroup.procs", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> cgroups.create(ParentGroup.JVM_LEAF, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> cgroups.create("x", -1, 0));
        try (CgroupSlot slot = cgroups.create("_-session-id-base64url" + SLOT_IDS.incrementAndGet(), 0, 0)) {
            assertThrows(IllegalArgumentException.class, () -> cgroups.create(slot.id(), 0, 0));
            assertThrows(IllegalArgumentException.class, () -> slot.add(ProcessHandle.current().pid()));
        }
    }

    @Test
    void staleGroupOfAJvmThatIsGoneIsKilledAndRemovedAtOpen() throws Exception {
        cgroups();
        Process dead = start(null, "/bin/true");
        assertTrue(dead.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        List<Hierarchy> found = CgroupMounts.read();
        Hierarchy memory = found.stream().filter(h -> !h.unified() && h.offers("memory")).findFirst()
                .or(() -> found.stream().filter(Hierarchy::unified).findFirst()).orElseThrow();
        Path stale = memory.ownDir().resolve("tether-stale-" + dead.pid());
        Path staleSlot = stale.resolve("some-session");
        Files.createDirectories(staleSlot);
        Process orphan = start(null, "/bin/sleep", "60");
        ControlFiles.write(staleSlot.resolve(ControlFiles.PROCS), Long.toString(orphan.pid()));

        Cgroups.open("tether-stale").toOptional().orElseThrow().close();

        assertFalse(Files.exists(stale));
        assertTrue(orphan.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the stale group's process is killed");
    }

    @Test
    void pureV1LayoutKillsPidByPidAndCountsCpuWithCpuacct() throws Exception {
        cgroups();
        List<Hierarchy> found = CgroupMounts.read();
        List<Placement> v1 = Stream.of("memory", "pids", "cpuacct")
                .map(c -> found.stream().filter(h -> !h.unified() && h.offers(c)).findFirst())
                .flatMap(Optional::stream).distinct().map(h -> new Placement(h, Set.of())).toList();
        assumeTrue(v1.size() == 3, "no v1 memory, pids and cpuacct hierarchies here: " + found);
        Cgroups cgroups = open("tether-v1", v1, ProcessHandle.current().pid());
        try (cgroups) {
            assertTrue(cgroups.toString().contains("kill by pid"), cgroups.toString());
            assertTrue(cgroups.toString().contains("cpuacct.usage"), cgroups.toString());
            exerciseSlot(cgroups, true);
        }
    }

    @Test
    void unifiedLayoutWithoutControllersKillsThroughCgroupKill() throws Exception {
        cgroups();
        Optional<Hierarchy> unified = CgroupMounts.read().stream().filter(Hierarchy::unified).findFirst();
        assumeTrue(unified.isPresent(), "no cgroup v2 hierarchy here");
        Cgroups cgroups = open("tether-v2", List.of(new Placement(unified.get(), Set.of())), ProcessHandle.current().pid());
        try (cgroups) {
            assumeTrue(cgroups.toString().contains("cgroup.kill"), "kernel before 5.14: " + cgroups);
            exerciseSlot(cgroups, false);
        }
    }

    /**
     * The "no internal processes" rule, with a {@code sleep} playing the JVM in a cgroup of
     * its own and whichever controller the v2 hierarchy offers (hugetlb on a hybrid host).
     */
    @Test
    void jvmAloneInItsCgroupMovesIntoALeafAndBackWhileOthersSharingItRefuse() throws Exception {
        cgroups();
        Optional<Hierarchy> unified = CgroupMounts.read().stream().filter(Hierarchy::unified).findFirst();
        assumeTrue(unified.isPresent() && !unified.get().controllers().isEmpty(), "no v2 controller here: " + unified);
        Path top = unified.get().ownDir();
        String controller = unified.get().controllers().stream().sorted().findFirst().orElseThrow();
        Path subtreeControl = top.resolve("cgroup.subtree_control");
        boolean enabledHere = !ControlFiles.words(subtreeControl).contains(controller);
        Path own = top.resolve("tether-own-test-" + ProcessHandle.current().pid());
        try {
            if (enabledHere) {
                ControlFiles.write(subtreeControl, "+" + controller);
            }
            Files.createDirectory(own);
            Process jvm = start(null, "/bin/sleep", "60");
            ControlFiles.write(own.resolve(ControlFiles.PROCS), Long.toString(jvm.pid()));
            Hierarchy h = new Hierarchy(own, Set.of(controller), true);

            Cgroups cgroups = open("tether-move", List.of(new Placement(h, Set.of(controller))), jvm.pid());
            Path parent = own.resolve("tether-move-" + jvm.pid());
            assertEquals(List.of(jvm.pid()), ControlFiles.pids(parent.resolve(ParentGroup.JVM_LEAF)));
            assertTrue(ControlFiles.words(parent.resolve("cgroup.subtree_control")).contains(controller));
            try (CgroupSlot slot = cgroups.create("a-session", 0, 0)) {
                assertTrue(ControlFiles.words(parent.resolve("a-session/cgroup.controllers")).contains(controller));
            }
            cgroups.close();
            assertEquals(List.of(jvm.pid()), ControlFiles.pids(own), "moved back");
            assertFalse(Files.exists(parent));
            assertEquals(Set.of(), ControlFiles.words(own.resolve("cgroup.subtree_control")));

            Process other = start(null, "/bin/sleep", "60");
            ControlFiles.write(own.resolve(ControlFiles.PROCS), Long.toString(other.pid()));
            Availability refused = Cgroups.open("tether-move", List.of(new Placement(h, Set.of(controller))), jvm.pid());
            assertTrue(assertInstanceOf(Unavailable.class, refused).reason().contains("other than the JVM"),
                    refused.toString());
            assertEquals(Set.of(jvm.pid(), other.pid()), Set.copyOf(ControlFiles.pids(own)), "nobody moved");
            assertFalse(Files.exists(parent));
        } finally {
            started.forEach(Process::destroyForcibly);
            for (Process p : started) {
                p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
            eventually("the test cgroup is empty", () -> pidsOf(own).isEmpty());
            ControlFiles.removeDirectory(own);
            if (enabledHere) {
                ControlFiles.write(subtreeControl, "-" + controller);
            }
        }
    }

    @Test
    void mountinfoAndProcSelfCgroupAreReadForV1V2AndContainers() {
        List<String> hybrid = List.of(
                "31 30 0:28 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory",
                "32 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
                "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
                "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate",
                "41 30 0:38 / /mnt/with\\040space rw - ext4 /dev/sda1 rw");
        List<Hierarchy> found = CgroupMounts.parse(hybrid, List.of(
                "4:memory:/process_api/abc", "3:cpu,cpuacct:/", "2:pids:/user.slice", "1:name=systemd:/", "0::/x"),
                p -> true);
        assertEquals(List.of(
                new Hierarchy(Path.of("/sys/fs/cgroup/memory/process_api/abc"), Set.of("memory"), false),
                new Hierarchy(Path.of("/sys/fs/cgroup/cpu,cpuacct"), Set.of("cpu", "cpuacct"), false),
                new Hierarchy(Path.of("/sys/fs/cgroup/pids/user.slice"), Set.of("pids"), false),
                new Hierarchy(Path.of("/sys/fs/cgroup/unified/x"), Set.of(), true)), found);

        // A container without a cgroup namespace: the mount's root is the container's cgroup.
        List<Hierarchy> container = CgroupMounts.parse(List.of(
                "700 690 0:26 /docker/f00 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw"),
                List.of("0::/docker/f00/app"), p -> true);
        assertEquals(List.of(new Hierarchy(Path.of("/sys/fs/cgroup/app"), Set.of(), true)), container);
        assertEquals(List.of(), CgroupMounts.parse(List.of(
                "700 690 0:26 /docker/f00 /sys/fs/cgroup ro - cgroup2 cgroup rw"), List.of("0::/elsewhere"), p -> true));
        assertEquals("/mnt/with space", CgroupMounts.Mount.unescape("/mnt/with\\040space"));
    }

    @Test
    void layoutIsChosenFromWhatTheHierarchiesOffer() {
        Hierarchy v2Full = new Hierarchy(Path.of("/cg"), Set.of("memory", "pids", "cpu", "io"), true);
        Hierarchy v2Bare = new Hierarchy(Path.of("/cg/unified"), Set.of(), true);
        Hierarchy memory = new Hierarchy(Path.of("/cg/memory"), Set.of("memory"), false);
        Hierarchy pids = new Hierarchy(Path.of("/cg/pids"), Set.of("pids"), false);
        Hierarchy cpuacct = new Hierarchy(Path.of("/cg/cpu,cpuacct"), Set.of("cpu", "cpuacct"), false);

        assertEquals(List.of(new Placement(v2Full, Set.of("memory", "pids"))), Cgroups.choose(List.of(v2Full)));
        assertEquals(List.of(new Placement(memory, Set.of()), new Placement(pids, Set.of()),
                new Placement(v2Bare, Set.of())), Cgroups.choose(List.of(cpuacct, memory, pids, v2Bare)));
        assertEquals(List.of(new Placement(memory, Set.of()), new Placement(pids, Set.of()),
                new Placement(cpuacct, Set.of())), Cgroups.choose(List.of(cpuacct, memory, pids)));
        assertEquals(List.of(), Cgroups.choose(List.of(v2Bare, memory)));
        assertEquals(List.of(), Cgroups.choose(List.of()));
    }

    /** Limits (when {@code limits}), joining, CPU time, killing and removal on one layout. */
    private void exerciseSlot(Cgroups cgroups, boolean limits) throws Exception {
        CgroupSlot slot = cgroups.create(nextId(), limits ? 100 * MB : 0, limits ? 20 : 0);
        List<Path> dirs = slot.procsFiles().stream().map(Path::getParent).toList();
        try (slot) {
            if (limits) {
                Process hog = start(slot, PYTHON, "-c", "b = b'x' * (300 * 1024 * 1024)\nprint('survived')");
                assertTrue(hog.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
                assertNotEquals(0, hog.exitValue());
            }
            Process busy = start(slot, PYTHON, "-c", """
                    import time
                    start = time.process_time()
                    while time.process_time() - start < 0.2:
                        pass
                    """);
            assertTrue(busy.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            assertEquals(0, busy.exitValue());
            assertTrue(slot.cpuTime().orElseThrow().compareTo(Duration.ofMillis(190)) >= 0, slot.cpuTime().toString());
            List<Long> pids = startTreeWithDaemons(slot);
            assertTrue(slot.killAll());
            eventually("every process of the tree is gone: " + pids, () -> pids.stream().allMatch(CgroupsTest::gone));
        }
        dirs.forEach(d -> assertFalse(Files.exists(d), d + " is removed"));
    }

    /**
     * A python in the slot with three children, each of which left a daemon behind (setsid
     * in a grandchild that forked it and exited, so it was re-parented away from the tree):
     * seven processes, listed once each child reaped its grandchild.
     */
    private List<Long> startTreeWithDaemons(CgroupSlot slot) throws Exception {
        Process root = start(slot, PYTHON, "-c", """
                import os, time
                r, w = os.pipe()
                for i in range(3):
                    if os.fork() == 0:
                        grandchild = os.fork()
                        if grandchild == 0:
                            os.setsid()
                            if os.fork() == 0:
                                time.sleep(60)
                            os._exit(0)
                        os.waitpid(grandchild, 0)
                        os.write(w, b'x')
                        time.sleep(60)
                        os._exit(0)
                for i in range(3):
                    os.read(r, 1)
                print('forked', flush=True)
                time.sleep(60)
                """);
        assertEquals("forked", firstLine(root));
        List<Long> pids = slot.pids();
        assertEquals(7, pids.size(), pids.toString());
        return pids;
    }

    private Process start(CgroupSlot slot, String... command) throws IOException {
        List<String> line = new ArrayList<>(slot == null ? List.of() : slot.joinCommandPrefix());
        line.addAll(List.of(command));
        Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    private static Cgroups open(String name, List<Placement> placements, long selfPid) {
        Availability opened = Cgroups.open(name, placements, selfPid);
        return assertInstanceOf(Available.class, opened, opened.toString()).cgroups();
    }

    private static Cgroups cgroups() {
        assumeTrue(host instanceof Available, () -> "cgroups are not usable here: " + host);
        return host.toOptional().orElseThrow();
    }

    private static String nextId() {
        return "test-" + SLOT_IDS.incrementAndGet();
    }

    private static String firstLine(Process p) throws IOException {
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (line == null) {
            fail("no output from " + p.info().commandLine().orElse("pid " + p.pid()));
        }
        return line.strip();
    }

    private static List<Long> pidsOf(Path dir) {
        try {
            return ControlFiles.pids(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Exited: no /proc entry, or a zombie nobody reaped yet (it runs nothing). */
    static boolean gone(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException e) {
            return true;
        }
    }

    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + TIMEOUT + ": " + what);
            }
            Thread.sleep(2);
        }
    }
}
