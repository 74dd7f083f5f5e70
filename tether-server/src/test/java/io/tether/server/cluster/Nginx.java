package io.tether.server.cluster;

import io.tether.testing.Eventually;
import io.tether.testing.OpenDirectories;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real nginx (Debian's {@code nginx} package) as a round-robin load balancer on loopback, in
 * front of nodes that are already listening: configured as docs/cluster.md says, run in the
 * foreground as this JVM's child, with its files in a directory of its own. When nginx is not
 * installed the calling test is skipped, unless {@value #REQUIRE_ENV} is set (CI sets it).
 */
final class Nginx implements AutoCloseable {
    static final String REQUIRE_ENV = "TETHER_REQUIRE_NGINX";
    private static final Path BINARY = Path.of("/usr/sbin/nginx");

    final int port;
    private final Path dir;
    private Process process;

    /** Picks the port clients will use; the nodes must accept it as a Host ({@code allowed_hosts}). */
    Nginx() {
        if (!Files.isExecutable(BINARY)) {
            String missing = "nginx is not installed (no " + BINARY + "; on Debian: apt-get install nginx)";
            if (System.getenv(REQUIRE_ENV) != null) {
                throw new IllegalStateException(missing + ", and " + REQUIRE_ENV + " is set");
            }
            Assumptions.abort("skipped: " + missing + "; set " + REQUIRE_ENV + " to make this a failure");
        }
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        dir = OpenDirectories.create("tether-nginx");
    }

    /** The address clients use: only this. */
    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** {@code 127.0.0.1:port}, the Host header clients send, for the nodes' {@code allowed_hosts}. */
    String host() {
        return "127.0.0.1:" + port;
    }

    /** Starts nginx round-robin over {@code nodes} ({@code host:port} each); returns once it listens. */
    void start(List<String> nodes) throws IOException {
        String servers = nodes.stream().map(n -> "server " + n + ";").collect(Collectors.joining(" "));
        String conf = """
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log;
                events { worker_connections 512; }
                http {
                    access_log off;
                    client_body_temp_path %1$s/body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    upstream tether { %2$s keepalive 16; }
                    server {
                        listen 127.0.0.1:%3$d;
                        proxy_set_header Host $http_host;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        location / { proxy_pass http://tether; proxy_buffering off; proxy_request_buffering off;
                                     proxy_read_timeout 15m; client_max_body_size 0; }
                    }
                }
                """.formatted(dir, servers, port);
        Path file = dir.resolve("nginx.conf");
        Files.writeString(file, conf);
        process = new ProcessBuilder(BINARY.toString(), "-p", dir.toString(), "-c", file.toString(),
                "-e", dir.resolve("error.log").toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(dir.resolve("output.log").toFile()).start();
        Eventually.eventually(Duration.ofSeconds(20), "nginx listening on " + port + " (" + dir + ")", () -> {
            if (!process.isAlive()) {
                throw new AssertionError("nginx exited " + process.exitValue() + ": " + log());
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("output.log")) + Files.readString(dir.resolve("error.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Stops nginx (its master and workers) and deletes its files. */
    @Override
    public void close() throws InterruptedException {
        if (process != null) {
            List<ProcessHandle> all = Stream.concat(Stream.of(process.toHandle()), process.descendants()).toList();
            all.forEach(ProcessHandle::destroyForcibly);
            process.waitFor(10, TimeUnit.SECONDS);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("Nginx: could not delete " + dir + ": " + e.getMessage());
        }
    }
}
