package io.tether.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Jupyter Server with the IPython kernel, from the system's packages, in a private
 * temporary configuration (config, runtime, data and IPython directories of its own),
 * with a token, on a free loopback port. Kernels are started with {@code POST /api/kernels}
 * and driven over their websocket channels with the Jupyter messaging protocol.
 *
 * <p>{@link Sockets#NODELAY} loads a server config file that sets TCP_NODELAY on every
 * kernel websocket when it opens (tornado's {@code WebSocketHandler.set_nodelay}); stock
 * Jupyter Server leaves Nagle's algorithm on for them, so a small reply can wait for the
 * client's delayed ACK (~40 ms on Linux).
 */
final class JupyterPeer implements Peer {
    static final String INSTALL_HINT = "apt-get install -y jupyter-server python3-ipykernel";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(60);
    /** Printed by the NODELAY config file when the server loads it; the harness checks the log. */
    private static final String NODELAY_MARK = "tether-compare: TCP_NODELAY on kernel websockets";
    private static final String NODELAY_CONFIG = """
            # Written by Tether's comparison harness (io.tether.bench.compare.JupyterPeer).
            # Stock Jupyter Server leaves Nagle's algorithm on for kernel websockets; set
            # TCP_NODELAY on each one as it opens, as tornado's WebSocketHandler allows.
            from jupyter_server.services.kernels.handlers import ZMQChannelsHandler

            _open = ZMQChannelsHandler.open

            def _open_nodelay(self, *args, **kwargs):
                self.set_nodelay(True)
                return _open(self, *args, **kwargs)

            ZMQChannelsHandler.open = _open_nodelay
            print("%s", flush=True)
            """.formatted(NODELAY_MARK);
    /** Prints the versions as JSON; fails when something is missing. */
    private static final String PROBE = """
            import json, sys, tornado, zmq, jupyter_server, jupyter_client, ipykernel
            from jupyter_client.kernelspec import KernelSpecManager
            spec = KernelSpecManager().get_kernel_spec("python3")
            print(json.dumps({"python": sys.version.split()[0], "jupyter_server": jupyter_server.__version__,
                "jupyter_client": jupyter_client.__version__, "ipykernel": ipykernel.__version__,
                "tornado": tornado.version, "pyzmq": zmq.__version__, "kernel_argv": spec.argv}))
            """;

    /** Whether Nagle's algorithm stays on for kernel websockets. */
    enum Sockets {
        STOCK, NODELAY
    }

    private final String name;
    private final ServerProcess server;
    private final Http http;
    private final String token;
    private final int port;

    private JupyterPeer(String name, ServerProcess server, Http http, String token, int port) {
        this.name = name;
        this.server = server;
        this.http = http;
        this.token = token;
        this.port = port;
    }

    /**
     * The versions of Jupyter Server, ipykernel and what they stand on, as JSON, or empty
     * (with the reason on stderr) when they are not installed for {@code python}.
     */
    static Optional<JsonNode> installed(Path python) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(python.toString(), "-c", PROBE).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0) {
            System.err.println(python + " cannot run Jupyter Server with the IPython kernel:\n" + out);
            return Optional.empty();
        }
        return Optional.of(Http.JSON.readTree(out.substring(out.lastIndexOf('\n') + 1)));
    }

    static JupyterPeer start(String name, Path python, Sockets sockets, Path dir)
            throws IOException, InterruptedException {
        python = python.toAbsolutePath(); // the server runs in its own directory
        Path config = Files.createDirectories(dir.resolve("config"));
        for (String d : List.of("runtime", "data", "ipython", "root")) {
            Files.createDirectories(dir.resolve(d));
        }
        if (sockets == Sockets.NODELAY) {
            Files.writeString(config.resolve("jupyter_server_config.py"), NODELAY_CONFIG);
        }
        Map<String, String> env = Map.of("JUPYTER_CONFIG_DIR", config.toString(),
                "JUPYTER_RUNTIME_DIR", dir.resolve("runtime").toString(),
                "JUPYTER_DATA_DIR", dir.resolve("data").toString(),
                "IPYTHONDIR", dir.resolve("ipython").toString(),
                "PYTHONDONTWRITEBYTECODE", "1");
        String token = UUID.randomUUID().toString().replace("-", "");
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) { // a free port can be taken before the server binds it
            int port = freePort();
            List<String> command = new ArrayList<>(List.of(python.toString(), "-m", "jupyter_server",
                    "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.port=" + port,
                    "--ServerApp.port_retries=0", "--ServerApp.token=" + token,
                    "--ServerApp.root_dir=" + dir.resolve("root")));
            ServerProcess server = ServerProcess.start(name, command, env, dir, dir.resolve("server-" + attempt + ".log"));
            JupyterPeer peer = new JupyterPeer(name, server, new Http("http://127.0.0.1:" + port, "token " + token),
                    token, port);
            try {
                peer.awaitUp();
                if (sockets == Sockets.NODELAY && !server.logContains(NODELAY_MARK)) {
                    throw server.failure("did not load the TCP_NODELAY config");
                }
                return peer;
            } catch (IllegalStateException e) {
                server.close();
                last = e;
            } catch (InterruptedException | RuntimeException e) {
                server.close();
                throw e;
            }
        }
        throw last;
    }

    private void awaitUp() throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            try {
                if (http.get("/api/status").status() == 200) {
                    server.markReady();
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!server.isAlive() || System.nanoTime() > deadline) {
                throw server.failure("did not answer /api/status");
            }
            Thread.sleep(5); // short: the cold start is timed from the process start to an answer
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long serverPid() {
        return server.pid();
    }

    @Override
    public ServerProcess process() {
        return server;
    }

    /** Jupyter Server keeps no kernels ahead of demand: nothing to wait for. */
    @Override
    public void awaitIdle() {
    }

    /** Starts a kernel ({@code POST /api/kernels}) and opens its websocket. */
    @Override
    public PeerSession open() throws IOException, InterruptedException {
        String id = http.post("/api/kernels", Map.of("name", "python3")).expect(201, "start a kernel")
                .body().get("id").asText();
        server.descendants(); // remember the kernel: it runs in its own session and would outlive a killed server
        Kernel k = new Kernel(id);
        try {
            k.connect();
        } catch (IOException | InterruptedException | RuntimeException e) {
            k.close();
            throw e;
        }
        return k;
    }

    private final class Kernel implements PeerSession, WebSocket.Listener {
        private static final JsonNode CLOSED = Http.JSON.getNodeFactory().textNode("closed");
        private final String id;
        private final String session = UUID.randomUUID().toString();
        private final BlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        private WebSocket ws;

        Kernel(String id) {
            this.id = id;
        }

        void connect() throws IOException, InterruptedException {
            URI uri = URI.create("ws://127.0.0.1:" + port + "/api/kernels/" + id + "/channels?session_id=" + session);
            try {
                ws = http.client().newWebSocketBuilder().header("Authorization", "token " + token)
                        .connectTimeout(Duration.ofSeconds(10)).buildAsync(uri, this)
                        .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw new IOException("websocket to kernel " + id + ": " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                throw new IOException("websocket to kernel " + id + " did not open", e);
            }
        }

        @Override
        public Reply execute(String code) throws IOException, InterruptedException {
            String msgId = UUID.randomUUID().toString();
            JupyterMessages.Execution progress = new JupyterMessages.Execution(msgId);
            try {
                ws.sendText(JupyterMessages.executeRequest(msgId, session, code, Instant.now()), true)
                        .get(REPLY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new IOException("kernel " + id + ": cannot send: " + e, e);
            }
            long deadline = System.nanoTime() + REPLY_TIMEOUT.toNanos();
            while (!progress.done()) {
                JsonNode m = inbox.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (m == null || m == CLOSED) {
                    throw new IOException("kernel " + id + ": " + (m == null ? "no reply to " + code + " within "
                            + REPLY_TIMEOUT.toSeconds() + " s" : "the websocket closed"));
                }
                progress.accept(m);
            }
            return progress.reply();
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    inbox.add(Http.JSON.readTree(text));
                } catch (IOException e) {
                    inbox.add(Http.JSON.getNodeFactory().textNode("unreadable: " + text));
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            inbox.add(CLOSED);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            inbox.add(CLOSED);
        }

        /** Closes the websocket and shuts the kernel down ({@code DELETE /api/kernels/{id}}). */
        @Override
        public void close() throws IOException, InterruptedException {
            if (ws != null) {
                ws.abort();
            }
            http.delete("/api/kernels/" + id).expect(204, "shut a kernel down");
        }
    }

    /** Stops the server: SIGTERM shuts its kernels down; any that outlive it are killed. */
    @Override
    public void close() throws InterruptedException {
        server.close();
    }
}
