package io.tether.server;

import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.sandbox.Sandbox;
import io.tether.session.WorkerLossPolicy;
import io.tether.store.postgres.PostgresUrl;
import io.tether.store.sqlite.SqliteSessionStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The server's settings, typed and checked: built from {@link Settings} (flags, environment,
 * config file, defaults). See {@code docs/configuration.md}.
 */
public record ServerConfig(int port, String bind, Path dataDir, String store, PostgresUrl storeUrl,
                           SqliteSessionStore.Synchronous sqliteSync, boolean auth,
                           List<String> allowedHosts, List<String> runtimes, Path python, List<Path> pythonPath,
                           List<String> workerEnv, boolean pythonForkServer, List<String> pythonPreload,
                           int pythonPoolMinIdle, int pythonPoolMaxWorkers, int jshellPoolMinIdle,
                           int jshellPoolMaxWorkers, Duration poolAcquireTimeout, double poolOwnerShare,
                           long maxSessions,
                           long maxSessionsPerOwner, Duration idleTimeout, Duration maxLifetime,
                           Duration executionTimeout, int maxQueuedExecutions, int executionHistory,
                           Duration sessionRetention,
                           long maxBodyBytes, WorkerLimits workerLimits, long maxFileBytes,
                           WorkerLossPolicy workerLossPolicy, Duration shutdownGrace, Duration sseKeepalive,
                           Sandbox.Mode sandbox, boolean sandboxNetwork, boolean autoProcessLimit,
                           boolean accessLog, String nodeId, String nodeUrl, Duration nodeLease,
                           Map<String, String> devices, Duration deviceWait) {
    /** The process limit {@code worker_max_processes = auto} gives a session in its own namespaces. */
    public static final int AUTO_PROCESS_LIMIT = 256;
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern MODULE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");


    /**
     * Checks and types every setting.
     *
     * @throws IllegalArgumentException naming the first bad setting, where its value came
     *     from and what is allowed
     */
    public static ServerConfig from(Settings s) {
        String store = s.parse("store", "sqlite, sqlite:/path/file.db, postgresql or memory", v -> {
            if (v.equals("sqlite") || v.equals("memory") || v.equals("postgresql")
                    || (v.startsWith("sqlite:") && v.length() > 7)) {
                return v;
            }
            throw new IllegalArgumentException();
        });
        PostgresUrl storeUrl = storeUrl(s, store);
        SqliteSessionStore.Synchronous sqliteSync = s.parse("sqlite_sync", "full or normal", v -> switch (v) {
            case "full" -> SqliteSessionStore.Synchronous.FULL;
            case "normal" -> SqliteSessionStore.Synchronous.NORMAL;
            default -> throw new IllegalArgumentException();
        });
        boolean auth = s.parse("auth", "token or none", v -> switch (v) {
            case "token" -> true;
            case "none" -> false;
            default -> throw new IllegalArgumentException();
        });
        String bind = s.parse("bind", "an IP address or host name of this machine", v -> {
            if (v.isEmpty()) {
                throw new IllegalArgumentException();
            }
            return v;
        });
        List<String> runtimes = s.list("runtimes");
        for (String r : runtimes) {
            if (!r.equals("python") && !r.equals("jshell")) {
                throw new IllegalArgumentException("setting runtimes (from " + s.origin("runtimes") + ") names '" + r
                        + "': the runtimes are python and jshell");
            }
        }
        Path python = s.parse("python", "an absolute path", v -> {
            Path p = Path.of(v);
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException();
            }
            return p;
        });
        List<Path> pythonPath = new ArrayList<>();
        for (String entry : s.list("python_path")) {
            Path p = Path.of(entry);
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException("setting python_path (from " + s.origin("python_path") + ") has '"
                        + entry + "': entries must be absolute paths");
            }
            pythonPath.add(p);
        }
        List<String> workerEnv = s.list("worker_env");
        for (String entry : workerEnv) {
            int eq = entry.indexOf('=');
            if (!VARIABLE_NAME.matcher(eq < 0 ? entry : entry.substring(0, eq)).matches()) {
                throw new IllegalArgumentException("setting worker_env (from " + s.origin("worker_env") + ") has '"
                        + entry + "': entries are NAME or NAME=value, a name of letters, digits and _ not"
                        + " starting with a digit");
            }
        }
        List<String> preload = s.list("python_preload");
        for (String module : preload) {
            if (!MODULE_NAME.matcher(module).matches()) {
                throw new IllegalArgumentException("setting python_preload (from " + s.origin("python_preload")
                        + ") has '" + module + "': entries are module names such as numpy or matplotlib.pyplot");
            }
        }
        long maxCode = s.bytes("max_code_bytes");
        if (maxCode > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("setting max_code_bytes must be under 2 GiB");
        }
        long maxBody = s.bytes("max_body_bytes");
        boolean autoProcesses = s.text("worker_max_processes").trim().equalsIgnoreCase("auto");
        WorkerLimits limits = new WorkerLimits(positive(s, "max_output_bytes"), (int) maxCode, s.bytes("worker_memory"),
                s.duration("worker_cpu_time", true), autoProcesses ? 0 : s.integer("worker_max_processes", 0, 1_000_000),
                s.bytes("worker_max_file_bytes"), s.bytes("worker_disk_quota"), WorkerLimits.DEFAULTS.killGrace());
        return new ServerConfig(
                s.integer("port", 0, 65_535), bind,
                s.parse("data_dir", "a directory path", v -> Path.of(v).toAbsolutePath().normalize()),
                store, storeUrl, sqliteSync, auth, s.list("allowed_hosts"), runtimes, python, List.copyOf(pythonPath), workerEnv,
                s.bool("python_fork_server"), List.copyOf(preload),
                s.integer("python_pool_min_idle", 0, 1000), s.integer("python_pool_max_workers", 1, 10_000),
                s.integer("jshell_pool_min_idle", 0, 1000), s.integer("jshell_pool_max_workers", 1, 10_000),
                s.duration("pool_acquire_timeout", false), s.fraction("pool_owner_share"),
                s.integer("max_sessions", 1, Integer.MAX_VALUE),
                s.parse("max_sessions_per_owner", "a whole number ≥ 1, or none",
                        v -> v.equals("none") ? Long.MAX_VALUE : positiveLong(v)),
                s.duration("idle_timeout", true), s.duration("max_lifetime", true),
                s.duration("execution_timeout", true),
                s.integer("max_queued_executions", 0, 10_000), s.integer("execution_history", 1, 100_000),
                positiveDuration(s, "session_retention"),
                maxBody, limits, positive(s, "max_file_bytes"),
                s.parse("worker_loss_policy", "end_session or restart",
                        v -> WorkerLossPolicy.valueOf(v.toUpperCase(Locale.ROOT))),
                s.duration("shutdown_grace", false), s.duration("sse_keepalive", false),
                s.parse("sandbox", "auto, required or off", Sandbox.Mode::of), s.bool("sandbox_network"),
                autoProcesses, s.bool("access_log"),
                s.parse("node_id", "empty, or 1-64 letters, digits, '.', '_' or '-'", v -> {
                    if (!v.isEmpty() && !NODE_ID.matcher(v).matches()) {
                        throw new IllegalArgumentException();
                    }
                    return v;
                }),
                s.parse("node_url", "empty, or an http:// or https:// URL with a host, such as http://10.0.0.5:8080",
                        ServerConfig::nodeUrl),
                s.parse("node_lease", "a duration of at least 1s, such as 10s", v -> {
                    Duration d = Settings.parseDuration(v);
                    if (d.compareTo(Duration.ofSeconds(1)) < 0) {
                        throw new IllegalArgumentException("too short");
                    }
                    return d;
                }),
                s.devices(), s.duration("device_wait", false));
    }

    /** A node URL without a trailing slash, or empty. */
    private static String nodeUrl(String v) {
        if (v.isEmpty()) {
            return v;
        }
        java.net.URI uri = java.net.URI.create(v);
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                || uri.getRawQuery() != null || uri.getRawFragment() != null
                || !(uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))) {
            throw new IllegalArgumentException();
        }
        return v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
    }

    /**
     * The PostgreSQL store the settings name ({@code store = postgresql}), with its password;
     * empty for another store. For the commands that open the store without a server.
     *
     * @throws IllegalArgumentException as {@link #from} for these settings
     */
    public static Optional<PostgresUrl> postgresStore(Settings s) {
        return Optional.ofNullable(storeUrl(s, s.text("store").trim()));
    }

    /**
     * The PostgreSQL store's URL with its password (from the URL, {@code store_password_file}
     * or {@value Settings#STORE_PASSWORD_ENV}), or {@code null} for another store. Messages
     * never quote the URL: it may hold the password.
     */
    private static PostgresUrl storeUrl(Settings s, String store) {
        String text = s.text("store_url").trim();
        String passwordFile = s.text("store_password_file").trim();
        if (!store.equals("postgresql")) {
            if (!text.isEmpty() || !passwordFile.isEmpty()) {
                throw new IllegalArgumentException("setting " + (text.isEmpty() ? "store_password_file (from "
                        + s.origin("store_password_file") : "store_url (from " + s.origin("store_url"))
                        + ") is only for store = postgresql, but store is '" + store + "'");
            }
            return null;
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException("store = postgresql needs setting store_url, e.g. "
                    + "postgresql://tether@db.internal:5432/tether");
        }
        PostgresUrl url;
        try {
            url = PostgresUrl.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("setting store_url (from " + s.origin("store_url") + "): "
                    + e.getMessage());
        }
        String fromEnv = s.storePassword();
        int given = (url.hasPassword() ? 1 : 0) + (passwordFile.isEmpty() ? 0 : 1) + (fromEnv == null ? 0 : 1);
        if (given > 1) {
            throw new IllegalArgumentException("the PostgreSQL password is given more than once (in store_url, "
                    + "store_password_file and " + Settings.STORE_PASSWORD_ENV + "): give it one way");
        }
        if (!passwordFile.isEmpty()) {
            try {
                String content = Files.readString(Path.of(passwordFile));
                int eol = content.indexOf('\n');
                return url.withPassword((eol < 0 ? content : content.substring(0, eol)).strip());
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("setting store_password_file (from "
                        + s.origin("store_password_file") + "): cannot read " + passwordFile + ": "
                        + e.getClass().getSimpleName());
            }
        }
        return fromEnv == null ? url : url.withPassword(fromEnv);
    }

    private static long positive(Settings s, String key) {
        long n = s.bytes(key);
        if (n < 1) {
            throw new IllegalArgumentException("setting " + key + " (from " + s.origin(key) + ") must be at least 1 byte");
        }
        return n;
    }

    /** A duration of at least 1 ms, or {@code null} for {@code none}. */
    private static Duration positiveDuration(Settings s, String key) {
        Duration d = s.duration(key, true);
        if (d != null && d.toMillis() < 1) {
            throw new IllegalArgumentException("setting " + key + " (from " + s.origin(key)
                    + ") must be at least 1ms, or none");
        }
        return d;
    }

    private static long positiveLong(String v) {
        long n = Long.parseLong(v);
        if (n < 1) {
            throw new IllegalArgumentException();
        }
        return n;
    }

    /**
     * The worker limits to use under {@code sandbox}: with {@code worker_max_processes = auto},
     * {@value #AUTO_PROCESS_LIMIT} processes when each session has its own namespaces.
     */
    public WorkerLimits workerLimits(Sandbox sandbox) {
        WorkerLimits l = workerLimits;
        if (!autoProcessLimit || !sandbox.has(Sandbox.Layer.SESSION_NAMESPACES)) {
            return l;
        }
        return new WorkerLimits(l.maxOutputBytes(), l.maxCodeBytes(), l.memoryBytes(), l.cpuTime(), AUTO_PROCESS_LIMIT,
                l.maxFileBytes(), l.diskQuotaBytes(), l.killGrace());
    }

    /**
     * The most workers of a pool of {@code maxWorkers} that one owner may hold: its
     * {@link #poolOwnerShare}, rounded down, at least one.
     */
    public int workersPerOwner(int maxWorkers) {
        return Math.max(1, (int) Math.floor(poolOwnerShare * maxWorkers));
    }

    /** Whether {@link #bind} is a loopback address (or {@code localhost}). */
    public boolean loopback() {
        try {
            for (InetAddress a : InetAddress.getAllByName(bind)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("setting bind is '" + bind + "': not an address of this machine", e);
        }
    }
}
