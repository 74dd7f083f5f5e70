package io.tether.runtime.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionStatus;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.testing.DeviceSim;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The tcp: and serial: transports, and addresses as configured. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DeviceTransportsTest {
    @TempDir
    Path work;
    private SessionManager manager;
    private final java.util.List<Process> bridged = new java.util.concurrent.CopyOnWriteArrayList<>();
    private ServerSocket server;

    @AfterEach
    void close() {
        if (manager != null) {
            manager.close();
        }
        if (server != null) {
            try {
                server.close();
            } catch (IOException e) {
                // closing
            }
        }
        bridged.forEach(Process::destroyForcibly);
    }

    private SessionManager manager(DeviceRuntime.Builder b) {
        manager = SessionManager.builder().reaperInterval(Duration.ZERO).runtime(b.workRoot(work).build()).build().start();
        return manager;
    }

    /**
     * A REPL on a loopback TCP port: each connection gets a fresh simulator's standard input
     * and output (as a board behind a network bridge that resets it on connect).
     */
    private int simOnTcp() throws IOException {
        server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        java.util.List<String> command = DeviceAddress.words(DeviceSim.address().substring("exec:".length()));
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Process p = new ProcessBuilder(command).start();
                    bridged.add(p);
                    Thread.ofVirtual().start(() -> {
                        pipe(s, p.getOutputStream());
                        p.destroyForcibly(); // the board is reset when its connection ends
                    });
                    Thread.ofVirtual().start(() -> {
                        try (s) {
                            pipe(p.getInputStream(), s.getOutputStream());
                        } catch (IOException e) {
                            // the connection ended
                        } finally {
                            p.destroyForcibly();
                        }
                    });
                } catch (IOException e) {
                    return; // the server was closed
                }
            }
        });
        return server.getLocalPort();
    }

    private static void pipe(Socket from, OutputStream to) {
        try (to) {
            pipe(from.getInputStream(), to);
        } catch (IOException e) {
            // closed
        }
        try {
            from.close();
        } catch (IOException e) {
            // closing
        }
    }

    private static void pipe(InputStream from, OutputStream to) throws IOException {
        byte[] b = new byte[4096];
        int n;
        while ((n = from.read(b)) >= 0) {
            to.write(b, 0, n);
            to.flush();
        }
    }

    @Test
    void aDeviceOnTcpRunsCode() throws Exception {
        DeviceSim.address();
        int port = simOnTcp();
        manager(DeviceRuntime.builder().device("net", "tcp:127.0.0.1:" + port).commandTimeout(Duration.ofSeconds(8)));
        Session s = manager.create(SessionSpec.builder("alice").runtime("micropython").device("net").build());
        assertThat(manager.execute(s.id(), "x = 6\nprint(x * 7)", Duration.ofSeconds(20), null).stdout()).isEqualTo("42\n");
        var err = manager.execute(s.id(), "undefined_name", Duration.ofSeconds(20), null);
        assertThat(err.status()).isEqualTo(ExecutionStatus.ERROR);
        assertThat(err.error().name()).isEqualTo("NameError");
        manager.end(s.id(), EndReason.MANUAL);
        assertThat(bridged).as("the raw-paste probe hung the first connection; a second one worked").hasSize(2);
        for (Process p : bridged) {
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("the bridge ends with its connection").isTrue();
        }
    }

    @Test
    void aTcpDeviceNobodyListensOnIsAClearError() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        manager(DeviceRuntime.builder().device("net", "tcp:127.0.0.1:" + port));
        assertThatThrownBy(() -> manager.create(SessionSpec.builder("alice").runtime("micropython").device("net").build()))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE))
                .hasMessageContaining("cannot connect to tcp:127.0.0.1:" + port);
    }

    @Test
    void anAbsentSerialPortIsAClearError() {
        manager(DeviceRuntime.builder().device("board", "serial:/dev/tether-no-such-port?baud=115200"));
        assertThatThrownBy(() -> manager.create(SessionSpec.builder("alice").runtime("micropython").device("board").build()))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.RUNTIME_UNAVAILABLE))
                .hasMessageContaining("/dev/tether-no-such-port");
    }

    @Test
    void addressesAreCheckedWhenConfigured() {
        assertThat(DeviceAddress.parse("serial:/dev/ttyACM0").baud()).isEqualTo(115200);
        assertThat(DeviceAddress.parse("serial:/dev/ttyUSB1?baud=9600")).hasToString("serial:/dev/ttyUSB1?baud=9600");
        assertThat(DeviceAddress.parse("tcp:[::1]:2323").target()).isEqualTo("[::1]:2323");
        assertThat(DeviceAddress.words("node 'my dir/sim.mjs' --heap=2m")).containsExactly("node", "my dir/sim.mjs",
                "--heap=2m");
        for (String bad : new String[] {"", "usb:/dev/x", "exec:", "tcp:host", "tcp:host:70000", "serial:?baud=9600",
                "serial:/dev/x?parity=even", "serial:/dev/x?baud=fast", "exec:node 'unclosed"}) {
            assertThatThrownBy(() -> DeviceAddress.parse(bad)).as(bad)
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
        }
    }
}
