package io.tether.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real PostgreSQL server for tests, from the machine's packages (Debian's
 * {@code postgresql}, {@code /usr/lib/postgresql/<version>/bin}): started once per JVM on the
 * first {@link #shared()}, on a free loopback port with trust authentication and no fsync,
 * and stopped (its files deleted) by a shutdown hook. Each test class takes a database of its
 * own with {@link #createDatabase}, so classes never see each other's rows.
 *
 * <p>When no PostgreSQL is installed, {@link #shared()} skips the calling test with a message
 * saying so, unless the environment variable {@value #REQUIRE_ENV} is set (CI sets it): then
 * it fails, so a machine without PostgreSQL can never pass by skipping.
 *
 * <p>Run as root (as CI does), the server runs as the {@code postgres} user via
 * {@code runuser}, since PostgreSQL refuses to run as root; otherwise as the current user.
 */
public final class PostgresServer {
    /** Set (to anything) to make a missing PostgreSQL a failure rather than a skip. */
    public static final String REQUIRE_ENV = "TETHER_REQUIRE_POSTGRES";
    /** The superuser every database belongs to; trust authentication, so no password. */
    public static final String USER = "postgres";

    private static final Path PACKAGES = Path.of("/usr/lib/postgresql");
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresServer shared;
    private static String unavailable;

    private final Path bin;
    private final Path base;
    private final Path data;
    private final int port;
    private final boolean asPostgresUser;

    private PostgresServer(Path bin, Path base, int port, boolean asPostgresUser) {
        this.bin = bin;
        this.base = base;
        this.data = base.resolve("data");
        this.port = port;
        this.asPostgresUser = asPostgresUser;
    }

    /**
     * The JVM's server, started on the first call. Skips the calling test (a JUnit assumption)
     * when PostgreSQL is not installed and {@value #REQUIRE_ENV} is unset.
     *
     * @throws IllegalStateException when PostgreSQL is required but missing, or fails to start
     */
    public static synchronized PostgresServer shared() {
        if (shared != null) {
            return shared;
        }
        if (unavailable == null) {
            Optional<Path> bin = binaries();
            if (bin.isPresent()) {
                shared = start(bin.get());
                return shared;
            }
            unavailable = "PostgreSQL is not installed (no " + PACKAGES + "/<version>/bin/initdb; on Debian: "
                    + "apt-get install postgresql)";
        }
        if (System.getenv(REQUIRE_ENV) != null) {
            throw new IllegalStateException(unavailable + ", and " + REQUIRE_ENV + " is set");
        }
        Assumptions.abort("skipped: " + unavailable + "; set " + REQUIRE_ENV + " to make this a failure");
        throw new AssertionError("unreachable");
    }

    /** The loopback port the server listens on. */
    public int port() {
        return port;
    }

    /**
     * Creates an empty database named after {@code label} (plus a number, so each call gets a
     * new one) and returns its name.
     */
    public String createDatabase(String label) {
        String name = "t" + DATABASES.incrementAndGet() + "_"
                + label.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
        if (name.length() > 60) {
            name = name.substring(0, 60);
        }
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), USER, "");
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
        }
        return name;
    }

    /** A JDBC URL of {@code database}, without credentials. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** A {@code postgresql://} URL of {@code database} with the user, as an operator writes it. */
    public String url(String database) {
        return "postgresql://" + USER + "@127.0.0.1:" + port + "/" + database;
    }

    /** A connection to {@code database} as the superuser, for checks behind a store's back. */
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), USER, "");
    }

    /** The newest installed version's binaries, e.g. {@code /usr/lib/postgresql/15/bin}. */
    private static Optional<Path> binaries() {
        if (!Files.isDirectory(PACKAGES)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(PACKAGES)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparing(PostgresServer::versionOf));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int versionOf(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static PostgresServer start(Path bin) {
        boolean root = "root".equals(System.getProperty("user.name"));
        IllegalStateException failure = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            PostgresServer server = null;
            try {
                // Under /var/tmp or target/, reachable by the postgres user (mode 0755).
                Path base = OpenDirectories.create("tether-pg");
                server = new PostgresServer(bin, base, freePort(), root);
                server.initAndStart();
                PostgresServer started = server;
                Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "tether-postgres-stop"));
                return started;
            } catch (IOException | RuntimeException e) {
                // A port taken between choosing and binding it: try another.
                if (server != null) {
                    server.stop();
                }
                IllegalStateException next = new IllegalStateException("PostgreSQL from " + bin
                        + " did not start (attempt " + attempt + "): " + e.getMessage(), e);
                if (failure != null) {
                    next.addSuppressed(failure);
                }
                failure = next;
            }
        }
        throw failure;
    }

    private void initAndStart() throws IOException {
        Files.createDirectory(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (asPostgresUser) {
            UserPrincipal postgres = data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(USER);
            Files.setOwner(base, postgres);
            Files.setOwner(data, postgres);
        }
        run(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "--auth=trust", "--no-sync",
                "--encoding=UTF8", "--locale=C");
        run(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", base.resolve("log").toString(), "-w",
                "-t", "60", "-o", "-p " + port + " -c listen_addresses=127.0.0.1 -k " + base + " -c fsync=off "
                        + "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                "start");
    }

    private void stop() {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                run(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop");
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("PostgresServer: stopping the test server in " + data + " failed: " + e.getMessage());
        }
        deleteTree(base);
    }

    private void run(String... command) throws IOException {
        List<String> line = new ArrayList<>();
        if (asPostgresUser) {
            line.addAll(List.of("runuser", "-u", USER, "--"));
        }
        line.addAll(List.of(command));
        Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
        byte[] output;
        try {
            output = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", line) + " did not finish in 120 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while running " + String.join(" ", line), e);
        }
        if (p.exitValue() != 0) {
            String log = "";
            Path logFile = base.resolve("log");
            if (Files.isReadable(logFile)) {
                log = "\nserver log:\n" + Files.readString(logFile);
            }
            throw new IOException(String.join(" ", line) + " exited " + p.exitValue() + ":\n" + new String(output)
                    + log);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("PostgresServer: could not delete " + root + ": " + e.getMessage());
        }
    }
}
