package io.tether.runtime.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.testing.DeviceSim;
import io.tether.testing.Eventually;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Device sessions against real MicroPython (the WebAssembly port through exec:), processes checked by PID. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DeviceSessionsTest {
    @TempDir
    Path work;

    private SessionManager manager;
    private DeviceRuntime runtime;

    private SessionManager manager(DeviceRuntime.Builder b) {
        runtime = b.workRoot(work).build();
        manager = SessionManager.builder().reaperInterval(Duration.ZERO).runtime(runtime).build().start();
        return manager;
    }

    private SessionManager simManager() {
        return manager(DeviceRuntime.builder().device("sim", DeviceSim.address()));
    }

    @AfterEach
    void close() {
        if (manager != null) {
            manager.close();
        }
    }

    private Session device(String owner) {
        return manager.create(SessionSpec.builder(owner).runtime("micropython").device("sim").build());
    }

    private ExecutionResult run(Session s, String code) {
        return manager.execute(s.id(), code, Duration.ofSeconds(20), null);
    }

    private long livePid(Session s) {
        return runtimePids().get(0);
    }

    /** The pids of the simulator processes this test's runtime started that are alive. */
    private List<Long> runtimePids() {
        List<Long> pids = new ArrayList<>();
        ProcessHandle.current().children().filter(p -> p.info().commandLine().orElse("").contains("sim.mjs"))
                .forEach(p -> pids.add(p.pid()));
        return pids;
    }

    private static void assertGone(long pid) {
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid %d", pid).isFalse();
    }

    @Test
    void stateIsKeptBetweenExecutionsAndOutputIsStreamed() {
        simManager();
        Session s = device("alice");
        assertThat(run(s, "x = 41").status()).isEqualTo(ExecutionStatus.OK);
        StringBuilder streamed = new StringBuilder();
        ExecutionResult r = manager.execute(s.id(), "for i in range(3):\n    print(x + i)", Duration.ofSeconds(20),
                (stream, text) -> streamed.append(text));
        assertThat(r.status()).isEqualTo(ExecutionStatus.OK);
        assertThat(r.stdout()).isEqualTo("41\n42\n43\n");
        assertThat(streamed).hasToString("41\n42\n43\n");
    }

    @Test
    void anErrorCarriesTheMicroPythonTraceback() {
        simManager();
        Session s = device("alice");
        ExecutionResult r = run(s, "print('before')\n1/0");
        assertThat(r.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(r.stdout()).isEqualTo("before\n");
        assertThat(r.error().name()).isEqualTo("ZeroDivisionError");
        assertThat(r.error().value()).isEqualTo("divide by zero");
        assertThat(r.error().traceback()).anySatisfy(l -> assertThat(l).contains("\"<stdin>\", line 2"));
        assertThat(run(s, "print('still here')").stdout()).isEqualTo("still here\n");
    }

    @Test
    void capabilitiesAreDetectedOnceAndCached() {
        simManager();
        assertThat(runtime.capabilities("sim")).isEmpty();
        Session first = device("alice");
        DeviceCapabilities c = runtime.capabilities("sim").orElseThrow();
        assertThat(c.implementation()).isEqualTo("micropython");
        assertThat(c.version()).isEqualTo("1.27.0");
        assertThat(c.platform()).isEqualTo("webassembly");
        assertThat(c.rawPaste()).as("the WebAssembly port acknowledges raw paste, then hangs").isFalse();
        assertThat(c.memoryBytes()).isPositive();
        // the session that found the raw paste hanging was reconnected and works
        assertThat(run(first, "print(6*7)").stdout()).isEqualTo("42\n");
        manager.end(first.id(), EndReason.MANUAL);
        Session second = device("alice");
        assertThat(runtime.capabilities("sim")).containsSame(c);
        assertThat(run(second, "print(1+2)").stdout()).isEqualTo("3\n");
    }

    @Test
    void oneLiveSessionPerDeviceAndTheOwnerGetsItBack() {
        simManager();
        Session a = device("alice");
        assertThat(device("alice").id()).as("get-or-create by device").isEqualTo(a.id());
        assertThatThrownBy(() -> device("bob"))
                .isInstanceOfSatisfying(TetherException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED))
                .hasMessageContaining("held by another live session");
        manager.end(a.id(), EndReason.MANUAL);
        Session b = device("bob");
        assertThat(run(b, "print('bob')").stdout()).isEqualTo("bob\n");
    }

    @Test
    void twoRacingCreatesGetOneSession() throws Exception {
        simManager();
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Object>> racers = new ArrayList<>();
        for (String owner : List.of("alice", "bob")) {
            racers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                    return device(owner);
                } catch (TetherException e) {
                    return e;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        go.countDown();
        List<Object> outcomes = new ArrayList<>();
        for (CompletableFuture<Object> f : racers) {
            outcomes.add(f.get(60, TimeUnit.SECONDS));
        }
        assertThat(outcomes).filteredOn(Session.class::isInstance).hasSize(1);
        assertThat(outcomes).filteredOn(TetherException.class::isInstance).singleElement()
                .satisfies(e -> assertThat(((TetherException) e).code()).isEqualTo(ErrorCode.LIMIT_EXCEEDED));
        assertThat(runtimePids()).hasSize(1);
    }

    @Test
    void aSecondCreateWaitsForTheDeviceWhenConfiguredTo() throws Exception {
        manager(DeviceRuntime.builder().device("sim", DeviceSim.address()).acquireTimeout(Duration.ofSeconds(20)));
        Session a = device("alice");
        CompletableFuture<Session> waiting = CompletableFuture.supplyAsync(() -> device("bob"));
        Thread.sleep(300); // bob's create is waiting, not failing
        assertThat(waiting).isNotDone();
        manager.end(a.id(), EndReason.MANUAL);
        Session b = waiting.get(30, TimeUnit.SECONDS);
        assertThat(b.owner()).isEqualTo("bob");
    }

    @Test
    void aTimeoutOnADeviceThatIgnoresCtrlCRestartsItsLinkAndSaysSo() {
        simManager();
        Session s = device("alice");
        run(s, "x = 1");
        long before = livePid(s);
        ExecutionResult r = manager.execute(s.id(), "while True:\n    pass", Duration.ofMillis(500), null);
        assertThat(r.status()).isEqualTo(ExecutionStatus.TIMEOUT);
        assertThat(r.error().name()).isEqualTo("DeviceRestarted");
        assertThat(r.error().value()).contains("state is lost");
        assertGone(before);
        ExecutionResult after = run(s, "print(x)");
        assertThat(after.error().name()).as("the state went with the old link").isEqualTo("NameError");
        assertThat(manager.get(s.id()).status()).isEqualTo(SessionStatus.ACTIVE);
    }

    @Test
    void anInterruptOfABusyDeviceEndsTheExecutionInterrupted() throws Exception {
        simManager();
        Session s = device("alice");
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "while True:\n    pass", Duration.ofSeconds(60), null));
        Thread.sleep(300);
        manager.interrupt(s.id());
        ExecutionResult r = running.get(30, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(ExecutionStatus.INTERRUPTED);
        assertThat(run(s, "print('next')").stdout()).isEqualTo("next\n");
    }

    @Test
    void aDeviceProcessThatDiesMidExecutionFailsTheSessionAndLeavesNoProcess() throws Exception {
        simManager();
        Session s = device("alice");
        long pid = livePid(s);
        CompletableFuture<ExecutionResult> running = CompletableFuture.supplyAsync(
                () -> manager.execute(s.id(), "print('started')\nwhile True:\n    pass", Duration.ofSeconds(60), null));
        Thread.sleep(300);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        ExecutionResult r = running.get(30, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(ExecutionStatus.CRASHED);
        assertThat(r.error().name()).isEqualTo("DeviceLost");
        assertThat(r.error().value()).contains("connection to device 'sim' was lost").contains("exited");
        Eventually.eventually(Duration.ofSeconds(10), "the session fails",
                () -> manager.get(s.id()).status() == SessionStatus.ERROR);
        assertThat(manager.get(s.id()).endReason()).isEqualTo(EndReason.WORKER_CRASHED);
        assertGone(pid);
        assertThat(runtimePids()).isEmpty();
        assertThat(run(device("bob"), "print(2)").stdout()).as("the device was released").isEqualTo("2\n");
    }

    @Test
    void endingASessionKillsTheDeviceProcessAndReleasesTheDevice() {
        simManager();
        Session s = device("alice");
        long pid = livePid(s);
        manager.end(s.id(), EndReason.MANUAL);
        assertGone(pid);
        assertThat(runtime.devices().get(0).held()).isFalse();
    }

    @Test
    void anAbsentDeviceIsAClearErrorAndIsNotHeld() {
        manager(DeviceRuntime.builder().device("gone", "exec:/nonexistent/board --repl"));
        assertThatThrownBy(() -> manager.create(SessionSpec.builder("alice").runtime("micropython").device("gone").build()))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE))
                .hasMessageContaining("device 'gone'").hasMessageContaining("not reachable");
        assertThat(runtime.devices().get(0).held()).isFalse();
    }

    @Test
    void aDeviceThatNeverAnswersIsAnErrorNotAHang() {
        manager(DeviceRuntime.builder().device("mute", "exec:sleep 600").commandTimeout(Duration.ofMillis(500)));
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> manager.create(SessionSpec.builder("alice").runtime("micropython").device("mute").build()))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE))
                .hasMessageContaining("raw REPL");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        assertThat(ProcessHandle.current().children().filter(p -> p.info().commandLine().orElse("").contains("sleep 600")))
                .isEmpty();
    }

    @Test
    void aDeviceNameNeedsTheDeviceRuntime() {
        simManager();
        assertThatThrownBy(() -> manager.create(SessionSpec.builder("alice").runtime("micropython").build()))
                .hasMessageContaining("names its device").hasMessageContaining("sim");
        assertThatThrownBy(() -> manager.create(SessionSpec.builder("alice").runtime("micropython").device("nope").build()))
                .hasMessageContaining("no device 'nope'");
    }

    @Test
    void sessionCodeCannotReachTheSimulatorsHost() throws Exception {
        simManager();
        Session s = device("alice");
        ExecutionResult js = run(s, "import js\nprint(js.process)");
        assertThat(js.stdout()).as("the js module is empty").doesNotContain("pid");
        Path marker = work.resolve("escaped");
        ExecutionResult escape = run(s, "import js\nf = js.constructor.constructor("
                + "'globalThis.process.getBuiltinModule(\"fs\").writeFileSync(\"" + marker + "\", \"x\")')\nf()");
        assertThat(escape.status()).isIn(ExecutionStatus.ERROR, ExecutionStatus.CRASHED);
        assertThat(marker).doesNotExist();
    }
}
