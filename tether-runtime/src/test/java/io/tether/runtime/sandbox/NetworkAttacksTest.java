package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Worker;
import io.tether.runtime.python.ForkServers;
import io.tether.testing.Confinement;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A session without network reaches nothing over a socket: not a loopback listener of the
 * host (TCP or UDP), not another session's listener (TCP or abstract Unix), not the fork
 * server's Unix socket.
 */
class NetworkAttacksTest extends AttackFixture {
    /** Refused by Landlock (TCP connect and bind) or by the empty network namespace. */
    private static final String NO_NETWORK = "(PermissionError: \\[Errno 13\\]|OSError: \\[Errno 101\\] Network is unreachable).*";

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotConnectToALoopbackListener(Confinement c) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(5000);
            ExecutionResult r = run(session(c), """
                    import socket
                    s = socket.create_connection(('127.0.0.1', %d), 5)
                    s.sendall(b'hello from a session')
                    s.close()
                    'connected'""".formatted(listener.getLocalPort()));
            assertAttack(c, r, NO_NETWORK, "connected");
            if (!c.sandboxed()) {
                try (Socket s = listener.accept()) {
                    assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                            .isEqualTo("hello from a session");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotSendUdpToLoopback(Confinement c) throws Exception {
        try (DatagramSocket listener = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            ExecutionResult r = run(session(c), """
                    import socket
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    n = s.sendto(b'hello from a session', ('127.0.0.1', %d))
                    s.close()
                    n""".formatted(listener.getLocalPort()));
            if (c.sandboxed() && forkServer()) {
                assertRefused(r, "OSError: \\[Errno 101\\] Network is unreachable");
            } else {
                // A cold worker's jail has a loopback of its own: the datagram is sent there.
                assertThat(r.status()).as(describe(r)).isEqualTo(ExecutionStatus.OK);
            }
            listener.setSoTimeout(c.sandboxed() ? 200 : 5000);
            DatagramPacket p = new DatagramPacket(new byte[64], 64);
            boolean received;
            try {
                listener.receive(p);
                received = true;
            } catch (SocketTimeoutException e) {
                received = false;
            }
            assertThat(received).as("a datagram arrived").isEqualTo(!c.sandboxed());
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionsCannotTalkOverTcp(Confinement c) {
        Worker server = session(c);
        ExecutionResult listening = run(server, """
                import socket
                srv = socket.socket()
                srv.bind(('127.0.0.1', 0))
                srv.listen(1)
                srv.getsockname()[1]""");
        // Landlock refuses the bind itself (there is nothing to bind to anyway).
        if (c.sandboxed()) {
            assertRefused(listening, "(PermissionError: \\[Errno 13\\]|OSError: \\[Errno 99\\] Cannot assign requested address).*");
        }
        assertThat(listening.status() == ExecutionStatus.OK).isEqualTo(!c.sandboxed());
        long port = c.sandboxed() ? 9 : (Long) listening.result().get("application/json");
        ExecutionResult r = run(session(c), """
                import socket
                s = socket.create_connection(('127.0.0.1', %d), 5)
                s.sendall(b'hello, neighbour')
                s.close()
                'connected'""".formatted(port));
        assertAttack(c, r, NO_NETWORK, "connected");
        if (!c.sandboxed()) {
            assertThat(value(server, "conn, _ = srv.accept()\nconn.settimeout(5)\nconn.recv(100).decode()"))
                    .isEqualTo("hello, neighbour");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionsCannotTalkOverAnAbstractUnixSocket(Confinement c) {
        String name = "tether-attack-" + UUID.randomUUID();
        Worker server = session(c);
        value(server, """
                import socket
                srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                srv.bind(b'\\0%s')
                srv.listen(1)""".formatted(name));
        ExecutionResult r = run(session(c), """
                import socket
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(b'\\0%s')
                s.sendall(b'hello, neighbour')
                s.close()
                'connected'""".formatted(name));
        // Each session has its own network namespace, and so its own abstract names.
        assertAttack(c, r, "(ConnectionRefusedError: \\[Errno 111\\]|PermissionError: \\[Errno 1\\]).*", "connected");
        if (!c.sandboxed()) {
            assertThat(value(server, "conn, _ = srv.accept()\nconn.settimeout(5)\nconn.recv(100).decode()"))
                    .isEqualTo("hello, neighbour");
        }
    }

    /**
     * The fork server makes a worker for whoever connects: a session that reached its socket
     * would get a process outside its own sandbox.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource
    void sessionCannotConnectToTheForkServer(Confinement c) {
        assumeTrue(forkServer(), "cold workers have no fork server");
        Worker w = session(c);
        Path socket = ForkServers.socket(runtimes.get(c));
        assertThat(socket).as("the fork server runs").isNotNull();
        ExecutionResult r = run(w, """
                import socket
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(5)
                s.connect(%s)
                s.sendall(b'\\0\\0\\0\\1.')  # a request: the spare answers with its pid
                pid = int.from_bytes(s.recv(4), 'big')
                s.close()
                pid > 0""".formatted(py(socket)));
        assertAttack(c, r, NO_SUCH_FILE, true);
        assertThat(value(session(c), "6 * 7")).as("the runtime still works").isEqualTo(42L);
    }
}
