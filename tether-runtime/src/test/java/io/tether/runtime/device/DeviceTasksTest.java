package io.tether.runtime.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.tether.runtime.ExecutionStatus;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.testing.DeviceSim;
import io.tether.testing.Eventually;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Tasks (deploy once, call by name, background tasks, setup and teardown) on real MicroPython. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeviceTasksTest {
    private static final String COUNTER = """
            _deploys = globals().get('_deploys', 0) + 1
            counter = [0]
            def add(a, b):
                return a + b
            def tick(n):
                counter[0] += n
            def count():
                return counter[0]
            def deploys():
                return _deploys
            """;

    @TempDir
    Path work;
    private SessionManager manager;
    private DeviceRuntime runtime;
    private Session session;
    private DeviceSession device;

    @BeforeEach
    void start() {
        String address = DeviceSim.address();
        runtime = DeviceRuntime.builder().device("sim", address).workRoot(work).build();
        manager = SessionManager.builder().reaperInterval(Duration.ZERO).runtime(runtime).build().start();
        session = manager.create(SessionSpec.builder("alice").runtime("micropython").device("sim").build());
        device = DeviceSession.of(manager, runtime, session.id());
    }

    @AfterEach
    void close() {
        if (manager != null) { // null when the simulator is missing and the test was skipped
            manager.close();
        }
    }

    @Test
    void aTaskDeployedOnceIsCalledAHundredTimes() {
        for (int i = 0; i < 100; i++) {
            device.deploy(COUNTER);
            assertThat(device.call(Long.class, "add", i, 1)).isEqualTo(i + 1L);
        }
        assertThat(device.deployments()).isEqualTo(1);
        assertThat(device.call("deploys")).as("the device ran the source once").isEqualTo(1L);
        assertThat(manager.get(session.id()).interactionCount()).isEqualTo(1 + 100 + 1);
    }

    @Test
    void changedCodeIsDeployedAgain() {
        assertThat(device.deploy("def f():\n    return 1")).isTrue();
        assertThat(device.deploy("def f():\n    return 1")).isFalse();
        assertThat(device.deploy("def f():\n    return 2")).isTrue();
        assertThat(device.call("f")).isEqualTo(2L);
    }

    @Test
    void argumentsAndResultsTravelAsJson() {
        device.deploy("def echo(*args):\n    return {'args': list(args), 'n': len(args)}");
        Object r = device.call("echo", "π \"quoted\" 'single' \\", 1.5, true, null, List.of(1, 2), Map.of("k", "v"));
        assertThat(r).isEqualTo(Map.of("args", java.util.Arrays.asList("π \"quoted\" 'single' \\", 1.5, true, null,
                List.of(1L, 2L), Map.of("k", "v")), "n", 6L));
    }

    @Test
    void aCallThatRaisesCarriesTheMicroPythonTraceback() {
        device.deploy("def boom(x):\n    return 1 // x");
        assertThatThrownBy(() -> device.call("boom", 0))
                .isInstanceOfSatisfying(DeviceCallException.class, e -> {
                    assertThat(e.result().status()).isEqualTo(ExecutionStatus.ERROR);
                    assertThat(e.result().error().name()).isEqualTo("ZeroDivisionError");
                    assertThat(e.result().error().traceback()).anySatisfy(l -> assertThat(l).contains("in boom"));
                });
        assertThatThrownBy(() -> device.deploy("def broken(:\n  pass")).isInstanceOf(DeviceCallException.class)
                .hasMessageContaining("SyntaxError");
        assertThat(device.deploy("def broken():\n    return 0")).as("a failed deployment is not recorded").isTrue();
    }

    @Test
    void aBackgroundTaskIsTrackedAndStoppedWhenTheSessionEnds() {
        device.deploy(COUNTER);
        DeviceTask task = device.startTask("ticker", "tick", Duration.ofMillis(5), 1);
        Eventually.eventually(Duration.ofSeconds(10), "the task ticks",
                () -> device.call(Long.class, "count") > 3);
        assertThat(device.tasks()).containsExactly("ticker");
        assertThat(manager.resources(session.id()).stats().byType()).containsKey(DeviceTask.RESOURCE_TYPE);
        assertThat(task.isStopped()).isFalse();
        manager.end(session.id(), EndReason.MANUAL);
        assertThat(task.isStopped()).as("the device confirmed the stop before the session's end").isTrue();
    }

    @Test
    void aStoppedTaskRunsNoMore() {
        device.deploy(COUNTER);
        DeviceTask task = device.startTask("ticker", "tick", Duration.ofMillis(5), 1);
        Eventually.eventually(Duration.ofSeconds(10), "the task ticks",
                () -> device.call(Long.class, "count") > 3);
        task.close();
        assertThat(task.isStopped()).isTrue();
        long after = device.call(Long.class, "count");
        device.call("deploys"); // the device gets turns in which a live task would tick
        device.call("deploys");
        assertThat(device.call(Long.class, "count")).isEqualTo(after);
        assertThat(device.tasks()).isEmpty();
    }

    @Test
    void setupRunsAgainWhenTheDeviceLosesItsStateAndTheCacheIsCleared() {
        device.setup("base = 10");
        device.deploy("def plus(x):\n    return base + x");
        assertThat(device.call("plus", 1)).isEqualTo(11L);
        var r = manager.execute(session.id(), "while True:\n    pass", Duration.ofMillis(300), null);
        assertThat(r.error().name()).isEqualTo("DeviceRestarted");
        assertThat(device.deploy("def plus(x):\n    return base + x")).as("the cache forgot the lost code").isTrue();
        assertThat(device.call("plus", 2)).as("setup ran again on the new link").isEqualTo(12L);
    }
}
