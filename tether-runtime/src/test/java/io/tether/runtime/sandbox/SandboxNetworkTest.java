package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.python.PythonRuntime;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Network is off for every session unless the server allows it and the session asks for it. */
class SandboxNetworkTest {
    @TempDir
    Path dir;

    private PythonRuntime runtime(boolean networkAllowed) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Sandbox sandbox = Sandbox.builder().workRoot(dir).networkAllowed(networkAllowed).build();
        assertThat(sandbox.missing()).isEmpty();
        return PythonRuntime.builder().workRoot(dir).sandbox(sandbox).build();
    }

    private static String connect(Worker w, int port) {
        ExecutionResult r = w.execute(new ExecutionRequest(1, "import socket\n"
                + "try:\n    socket.create_connection(('127.0.0.1', " + port + "), 2).close()\n    r = 'connected'\n"
                + "except OSError as e:\n    r = type(e).__name__ + ' ' + str(e.errno)\nr", Duration.ofSeconds(20)),
                OutputListener.NONE);
        return String.valueOf(r.result().get("application/json"));
    }

    @Test
    void onlyASessionThatAsksForTheNetworkWhereTheServerAllowsItCanConnect() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             PythonRuntime rt = runtime(true)) {
            Worker asked = rt.start(WorkerOptions.DEFAULTS.withNetwork(true));
            Worker plain = rt.start(WorkerOptions.DEFAULTS);
            try {
                assertThat(connect(asked, listener.getLocalPort())).isEqualTo("connected");
                assertThat(connect(plain, listener.getLocalPort())).isNotEqualTo("connected")
                        .matches("(PermissionError 13|OSError 101)");
            } finally {
                asked.close();
                plain.close();
            }
        }
    }

    @Test
    void aServerThatDoesNotAllowTheNetworkRefusesASessionThatAsksForIt() throws Exception {
        try (PythonRuntime rt = runtime(false)) {
            assertThatThrownBy(() -> rt.start(WorkerOptions.DEFAULTS.withNetwork(true)))
                    .isInstanceOf(TetherException.class)
                    .satisfies(e -> assertThat(((TetherException) e).code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                    .hasMessageContaining("sandbox_network");
            assertThat(dir.toFile().list()).as("no working directory left").isEmpty();
        }
    }

    @Test
    void withTheSandboxOffASessionConnects() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             PythonRuntime rt = PythonRuntime.builder().workRoot(dir).sandbox(Sandbox.off()).build()) {
            Worker w = rt.start(WorkerOptions.DEFAULTS);
            try {
                assertThat(connect(w, listener.getLocalPort())).isEqualTo("connected");
            } finally {
                w.close();
            }
        }
    }
}
