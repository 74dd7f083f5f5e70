package io.tether.server;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * Every setting of the server, defined once: its key in the config file, its flag
 * ({@code --key-with-dashes}), its environment variable ({@code TETHER_KEY}), its default
 * and its meaning. {@code docs/configuration.md} has the same table (a test keeps them
 * equal).
 *
 * <p>Precedence: flag, then environment variable, then the config file, then the default.
 * Values are checked when read; a bad one fails the start with the setting's name, where
 * the value came from and what is allowed.
 */
public final class Settings {
    /** One setting. */
    public record Setting(String key, String defaultText, String description) {
        /** The command-line flag, e.g. {@code --python-pool-min-idle}. */
        public String flag() {
            return "--" + key.replace('_', '-');
        }

        /** The environment variable, e.g. {@code TETHER_PYTHON_POOL_MIN_IDLE}. */
        public String env() {
            return "TETHER_" + key.toUpperCase(Locale.ROOT);
        }
    }

    /** The config file: {@code --config FILE}, {@code TETHER_CONFIG}, else {@code ./tether.conf} if it exists. */
    public static final String CONFIG_FLAG = "--config";
    public static final String CONFIG_ENV = "TETHER_CONFIG";
    public static final String DEFAULT_CONFIG_FILE = "tether.conf";

    static final List<Setting> ALL = List.of(
            new Setting("port", "8080", "TCP port to listen on; 0 picks a free one (printed at start)."),
            new Setting("bind", "127.0.0.1", "Address to listen on. A non-loopback address needs `auth = token`."),
            new Setting("data_dir", "./tether-data", "Directory of the embedded store, tokens and session working directories."),
            new Setting("store", "sqlite", "`sqlite` (the file `tether.db` in the data directory), `sqlite:/path/file.db`, `postgresql` (the database at `store_url`, which several servers may share, tokens included; the servers on one database are the nodes of one cluster: docs/cluster.md), or `memory` (nothing survives a restart)."),
            new Setting("store_url", "", "The database of `store = postgresql`: `postgresql://user@host:5432/db` or a `jdbc:postgresql://` URL. A password may be in it, but rather give it in `store_password_file` or the environment variable `TETHER_STORE_PASSWORD`; it is never logged or shown."),
            new Setting("sqlite_sync", "full", "How a SQLite store commits (`store = sqlite` or `sqlite:…`): `full` syncs each commit to disk before answering, so what was acknowledged survives a power loss; `normal` answers once the commit reached the operating system: it survives a crash of Tether, but an operating-system crash or power loss may lose the last acknowledged changes. `normal` saves a disk sync per create, update and end (1.1–1.4 ms of a create on the virtual disk of docs/benchmarks.md, several ms on some network disks)."),
            new Setting("store_password_file", "", "A file whose first line is the PostgreSQL password (a mounted secret, mode 0600), for `store = postgresql`."),
            new Setting("auth", "token", "`token`: every request needs `Authorization: Bearer <token>`; `none`: no auth, allowed on loopback only."),
            new Setting("allowed_hosts", "", "Extra `Host` header values accepted (comma-separated); `*` accepts any. Loopback names and the bind address are always accepted."),
            new Setting("runtimes", "python,jshell", "Runtimes to offer (comma-separated): `python`, `jshell`; empty for plain sessions only."),
            new Setting("device_wait", "0s", "How long a create for a MicroPython device that another session holds waits for it (devices are configured as `device.<name> = …` keys in the config file, docs/devices.md); `0s` refuses at once with `limit_exceeded`."),
            new Setting("sandbox", "auto", "Confinement of session code (docs/security.md): `auto` uses every layer the host offers (jail, session-namespaces, landlock), `required` refuses to start when one is missing, `off` uses none (a warning at start and in `/healthz`)."),
            new Setting("sandbox_network", "false", "Whether session code may use the network (`true`) or has none at all, loopback included (`false`)."),
            new Setting("python", "/usr/bin/python3", "The Python interpreter workers run (absolute path); its installed packages are the sessions' (a virtualenv's `bin/python` for that virtualenv's). Checked at start: a path that is not a Python 3.8+ fails the start."),
            new Setting("python_path", "", "Extra directories on every Python worker's `sys.path` (comma-separated absolute paths), before the standard library and site-packages; readable in the sandbox."),
            new Setting("worker_env", "", "Environment variables Python workers and JShell JVMs get (comma-separated): `NAME` passes the server's value, `NAME=value` sets one. Empty: none of the server's environment; they get only `PATH` (`/usr/local/bin:/usr/bin:/bin`, after the interpreter's directory for Python) and `LANG=C.UTF-8`, which entries may override."),
            new Setting("python_fork_server", "true", "Fork Python workers from a pre-warmed server (Linux) instead of starting each cold."),
            new Setting("python_preload", "", "Modules the Python fork server imports once at start (comma-separated, e.g. `numpy, pandas, matplotlib.pyplot`): every session forked from it has them already, shared copy-on-write, so importing them costs a session nothing. One that cannot be imported is logged and skipped. Not for cold workers (`python_fork_server = false`)."),
            new Setting("python_pool_min_idle", "2", "Python workers kept started and idle."),
            new Setting("python_pool_max_workers", "64", "Most Python workers at once (idle, starting and in sessions), 1 to 10,000."),
            new Setting("jshell_pool_min_idle", "1", "JShell workers (a JVM each) kept started and idle, once the first JShell session was created: until then none is started."),
            new Setting("jshell_pool_max_workers", "16", "Most JShell workers at once, 1 to 10,000."),
            new Setting("pool_acquire_timeout", "10s", "How long a session create waits for a worker when a pool is at its maximum."),
            new Setting("pool_owner_share", "0.5", "Most of a pool's workers (`python_pool_max_workers`, `jshell_pool_max_workers`) one owner's sessions may hold at once, as a fraction (at least one worker); past it the owner's creates are refused at once with `limit_exceeded`, so one owner cannot keep the others waiting. `1` for no share."),
            new Setting("max_sessions", "100000", "Most active sessions at once."),
            new Setting("max_sessions_per_owner", "none", "Most active sessions of one owner; `none` for no limit."),
            new Setting("idle_timeout", "30m", "Default idle timeout of a session (a request may set its own); `none` for never."),
            new Setting("max_lifetime", "none", "Default longest life of a session; `none` for unlimited."),
            new Setting("execution_timeout", "10m", "Default timeout of an execution when the request gives none; `none` for no limit. "
                    + "It covers waiting behind the session's earlier executions too."),
            new Setting("max_queued_executions", "16", "Executions of one session that may wait behind the running one."),
            new Setting("execution_history", "100", "Newest executions kept per session, fetchable by number."),
            new Setting("session_retention", "30d", "How long an ended session and its execution history stay in the store after it ended; then a background pass (every minute) deletes them. `none` keeps them for ever (the store grows without bound)."),
            new Setting("max_body_bytes", "2MiB", "Largest request body (except file uploads)."),
            new Setting("max_code_bytes", "1MiB", "Largest code of one execution."),
            new Setting("max_output_bytes", "1MiB", "Output kept per execution; beyond it output is cut and `truncated` set. "
                    + "An error's value and traceback are capped at as many characters each."),
            new Setting("max_file_bytes", "64MiB", "Largest file uploaded into a session's working directory."),
            new Setting("worker_memory", "2GiB", "Address-space limit of a worker process (RLIMIT_AS); 0 for none."),
            new Setting("worker_cpu_time", "none", "CPU time a session's processes may use in all (the interpreter, its children, daemons; checked after every execution and every 500 ms, idle or not; a JVM's own start is not charged); past it the worker is killed and the session ends `error` / `cpu_time_exceeded`. Python processes also get RLIMIT_CPU one second above it. `none` for no limit."),
            new Setting("worker_max_processes", "auto", "Processes (and threads) a session may have at once (RLIMIT_NPROC). `auto`: 256 when the sandbox's session namespaces are in force (the count is then per session), else none (RLIMIT_NPROC would count every process of the server's user); a number sets it either way; 0 for no limit."),
            new Setting("worker_max_file_bytes", "1GiB", "Largest file a worker may write (RLIMIT_FSIZE); 0 for none."),
            new Setting("worker_disk_quota", "1GiB", "Most bytes a session's working directory may hold (all files, any depth), checked after every execution and every 500 ms, idle or not (a directory of more than 256 entries less often: docs/runtimes.md); past it the worker is killed, the execution ends `crashed` and the session `error` / `disk_quota_exceeded`. 0 for none."),
            new Setting("worker_loss_policy", "end_session", "When a worker dies: `end_session` (status `error`, reason `worker_crashed`) or `restart` (fresh interpreter, same session)."),
            new Setting("shutdown_grace", "10s", "At shutdown, how long running executions may finish before they are interrupted."),
            new Setting("sse_keepalive", "15s", "Interval of keep-alive comments on an idle event stream."),
            new Setting("node_id", "", "This server's name in a cluster (docs/cluster.md), recorded on the sessions it holds; letters, digits, `.`, `_`, `-`, at most 64. Empty: derived from the host name and the port, e.g. `web1-8080`. Nodes of one cluster need distinct ids."),
            new Setting("node_url", "", "The base URL other nodes of a cluster forward requests to, e.g. `http://10.0.0.5:8080`; its host is accepted by the Host check. Empty: `http://` the bind address (the host name when binding every interface) and the port."),
            new Setting("node_lease", "10s", "How long a node's lease in a cluster lasts; it renews it every third of that (at most every 3 s). When a node's lease lapses, another node ends its sessions with a worker `error` / `node_lost` within `node_lease` + 5 s. At least 1s."),
            new Setting("access_log", "true", "One line per request at info on logger `io.tether.server.access`: method, route template, status, duration, owner and session id (never a token, a query or a body). `false` turns it off."));

    /**
     * The environment variable that may hold the PostgreSQL store's password. Not a setting:
     * a password must not be a flag (other users see a process's arguments) nor sit in the
     * config file next to the other settings.
     */
    public static final String STORE_PASSWORD_ENV = "TETHER_STORE_PASSWORD";

    /** Config-file keys {@code device.<name>}: one MicroPython device each (docs/devices.md). */
    public static final String DEVICE_PREFIX = "device.";

    private final Map<String, String> values;
    private final Map<String, String> origins;
    private final String storePassword;
    private final Map<String, String> devices;

    private Settings(Map<String, String> values, Map<String, String> origins, String storePassword,
                     Map<String, String> devices) {
        this.values = values;
        this.origins = origins;
        this.storePassword = storePassword;
        this.devices = devices;
    }

    /** The configured devices, name → address, in name order. */
    public Map<String, String> devices() {
        return devices;
    }

    /** Every setting, in the order of the documentation table. */
    public static List<Setting> all() {
        return ALL;
    }

    /**
     * Resolves every setting from flags, the environment and a config file.
     *
     * @param flags  values given as flags, by key (absent keys were not given)
     * @param env    the environment
     * @param config the config file, or {@code null} for {@code TETHER_CONFIG} or
     *               {@code ./tether.conf} if that exists
     * @throws IllegalArgumentException for an unreadable config file or an unknown key in it
     */
    public static Settings resolve(Map<String, String> flags, Map<String, String> env, Path config) {
        Map<String, String> file = readFile(config != null ? config
                : env.containsKey(CONFIG_ENV) ? Path.of(env.get(CONFIG_ENV)) : null);
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        for (Setting s : ALL) {
            if (flags.containsKey(s.key())) {
                values.put(s.key(), flags.get(s.key()));
                origins.put(s.key(), "flag " + s.flag());
            } else if (env.containsKey(s.env())) {
                values.put(s.key(), env.get(s.env()));
                origins.put(s.key(), "environment variable " + s.env());
            } else if (file.containsKey(s.key())) {
                values.put(s.key(), file.get(s.key()));
                origins.put(s.key(), "config file key " + s.key());
            } else {
                values.put(s.key(), s.defaultText());
                origins.put(s.key(), "default");
            }
        }
        Map<String, String> devices = new java.util.TreeMap<>();
        file.forEach((key, value) -> {
            if (key.startsWith(DEVICE_PREFIX)) {
                devices.put(key.substring(DEVICE_PREFIX.length()), value);
            }
        });
        return new Settings(values, origins, env.get(STORE_PASSWORD_ENV), java.util.Collections.unmodifiableMap(devices));
    }

    private static Map<String, String> readFile(Path explicit) {
        Path file = explicit;
        if (file == null) {
            Path fallback = Path.of(DEFAULT_CONFIG_FILE);
            if (!Files.isRegularFile(fallback)) {
                return Map.of();
            }
            file = fallback;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> m = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (String key : p.stringPropertyNames()) {
            if (!key.startsWith(DEVICE_PREFIX) && ALL.stream().noneMatch(s -> s.key().equals(key))) {
                unknown.add(key);
            }
            m.put(key, p.getProperty(key).trim());
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("config file " + file + " has unknown settings " + unknown
                    + "; the settings are listed in docs/configuration.md");
        }
        return m;
    }

    /** The raw text of a setting. */
    public String text(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("no setting '" + key + "'");
        }
        return v;
    }

    /** The value of {@value #STORE_PASSWORD_ENV}, or {@code null}. Never log it. */
    String storePassword() {
        return storePassword;
    }

    /** Where a setting's value came from, for error messages. */
    public String origin(String key) {
        return origins.get(key);
    }

    <T> T parse(String key, String allowed, Function<String, T> parser) {
        String v = text(key).trim();
        try {
            return parser.apply(v);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("setting " + key + " (from " + origin(key) + ") is '" + v + "': "
                    + "expected " + allowed, e);
        }
    }

    /** A fraction above 0 and at most 1, such as {@code 0.5}. */
    double fraction(String key) {
        return parse(key, "a number above 0 and at most 1, such as 0.5", v -> {
            double d = Double.parseDouble(v);
            if (!(d > 0 && d <= 1)) {
                throw new IllegalArgumentException("out of range");
            }
            return d;
        });
    }

    int integer(String key, int min, int max) {
        return parse(key, "a whole number from " + min + " to " + max, v -> {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw new IllegalArgumentException("out of range");
            }
            return n;
        });
    }

    boolean bool(String key) {
        return parse(key, "true or false", v -> switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException();
        });
    }

    /** A duration such as {@code 500ms}, {@code 90s}, {@code 30m}, {@code 2h}, {@code 1d}; {@code null} for {@code none}. */
    Duration duration(String key, boolean noneAllowed) {
        return parse(key, "a duration such as 500ms, 90s, 30m, 2h or 1d" + (noneAllowed ? ", or none" : ""), v -> {
            if (v.equalsIgnoreCase("none")) {
                if (!noneAllowed) {
                    throw new IllegalArgumentException();
                }
                return null;
            }
            return parseDuration(v);
        });
    }

    static Duration parseDuration(String v) {
        String t = v.toLowerCase(Locale.ROOT);
        int unit = 0;
        while (unit < t.length() && (Character.isDigit(t.charAt(unit)) || t.charAt(unit) == '.')) {
            unit++;
        }
        double n = Double.parseDouble(t.substring(0, unit));
        double millis = switch (t.substring(unit)) {
            case "ms" -> n;
            case "s", "" -> n * 1_000;
            case "m" -> n * 60_000;
            case "h" -> n * 3_600_000;
            case "d" -> n * 86_400_000;
            default -> throw new IllegalArgumentException("unknown unit");
        };
        if (millis < 0 || Double.isNaN(millis) || millis > Long.MAX_VALUE / 2) {
            throw new IllegalArgumentException("out of range");
        }
        return Duration.ofMillis(Math.round(millis));
    }

    /** A size such as {@code 1048576}, {@code 512KiB}, {@code 2MiB}, {@code 1GiB} (also {@code k}, {@code m}, {@code g}). */
    long bytes(String key) {
        return parse(key, "a size such as 65536, 512KiB, 2MiB or 1GiB", Settings::parseBytes);
    }

    static long parseBytes(String v) {
        String t = v.toLowerCase(Locale.ROOT);
        int unit = 0;
        while (unit < t.length() && Character.isDigit(t.charAt(unit))) {
            unit++;
        }
        long n = Long.parseLong(t.substring(0, unit));
        long factor = switch (t.substring(unit)) {
            case "", "b" -> 1;
            case "k", "kb", "kib" -> 1L << 10;
            case "m", "mb", "mib" -> 1L << 20;
            case "g", "gb", "gib" -> 1L << 30;
            default -> throw new IllegalArgumentException("unknown unit");
        };
        return Math.multiplyExact(n, factor);
    }

    List<String> list(String key) {
        String v = text(key).trim();
        if (v.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String part : v.split(",")) {
            if (!part.isBlank()) {
                out.add(part.trim());
            }
        }
        return out;
    }
}
