package io.tether.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.TetherException;
import io.tether.client.TetherClient;
import io.tether.server.Settings;
import io.tether.server.TetherServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Where one command works: the data directory, and the server it calls with which token.
 * The CLI reads the server's own configuration ({@link Settings}: {@code --config FILE},
 * {@code TETHER_CONFIG}, {@code ./tether.conf}, {@code TETHER_*} variables), so a command run
 * beside a server finds it without flags.
 *
 * <p>The data directory is {@code --data-dir}, else the configuration's {@code data_dir}.
 * The URL is {@code --url} (or {@code TETHER_URL}), else the one a server running on the data
 * directory wrote into {@code server.json}, else the configuration's {@code bind} and
 * {@code port} ({@code 127.0.0.1} for a wildcard bind). The token is {@code --token} (or
 * {@code TETHER_TOKEN}), else the admin token in the data directory's {@code admin-token}
 * file, which is sent to loopback URLs only so a local secret never travels to another machine.
 *
 * @param dataDir the data directory
 * @param url     the server's base URL, without a trailing slash
 * @param token   the bearer token, or {@code null} to send none
 * @param origin  where the URL came from, for messages
 * @param running whether a server's {@code server.json} names the URL, or {@code --url} does:
 *                then store-backed commands call that server instead of opening the store
 */
record Target(Path dataDir, URI url, String token, String origin, boolean running) {
    static final String ADMIN_TOKEN_FILE = "admin-token";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Resolves where a command works.
     *
     * @param config  {@code --config}, or {@code null} for {@code TETHER_CONFIG} or {@code ./tether.conf}
     * @param dataDir {@code --data-dir}, or {@code null} for the configuration's
     * @param url     {@code --url} or {@code TETHER_URL}, or {@code null}
     * @param token   {@code --token} or {@code TETHER_TOKEN}, or {@code null}
     * @param env     the environment the configuration reads {@code TETHER_*} from
     * @throws TetherException {@code invalid_request} for a bad config file, port or URL
     */
    static Target resolve(Path config, Path dataDir, String url, String token, Map<String, String> env) {
        Settings settings = settings(config, env);
        Path dir = dataDir != null ? dataDir : Path.of(settings.text("data_dir"));
        URI uri;
        String origin;
        boolean named = url != null && !url.isBlank();
        Optional<URI> running = named ? Optional.empty() : runningServer(dir);
        if (named) {
            uri = parse(url.strip());
            origin = "--url / TETHER_URL";
        } else if (running.isPresent()) {
            uri = running.get();
            origin = dir.resolve(TetherServer.SERVER_FILE) + " (written by the server)";
        } else {
            uri = configured(settings);
            origin = "the configuration's bind and port (" + settings.origin("port") + "); a server on another "
                    + "port or data directory needs --config, --data-dir or --url";
        }
        String t = token != null && !token.isBlank() ? token.strip() : null;
        if (t == null && loopback(uri)) {
            t = adminToken(dir);
        }
        return new Target(dir, uri, t, origin, named || running.isPresent());
    }

    /** The data directory alone, for the commands that never call a server: {@code --data-dir}, else the configuration's. */
    static Path dataDir(Path config, Path dataDir, Map<String, String> env) {
        return dataDir != null ? dataDir : Path.of(settings(config, env).text("data_dir"));
    }

    private static Settings settings(Path config, Map<String, String> env) {
        try {
            return Settings.resolve(Map.of(), env, config);
        } catch (IllegalArgumentException e) {
            throw TetherException.invalid(e.getMessage());
        }
    }

    /** A client of this target's server; the caller closes it. */
    TetherClient client() {
        TetherClient.Builder b = TetherClient.builder().baseUrl(url).connectTimeout(Duration.ofSeconds(5));
        if (token != null) {
            b.token(token);
        }
        return b.build();
    }

    /** The URL the configuration's {@code bind} and {@code port} give. */
    private static URI configured(Settings settings) {
        String port = settings.text("port");
        if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65_535) {
            throw TetherException.invalid("port '" + port + "' (" + settings.origin("port") + ") is no port to call; "
                    + "give the server's URL with --url");
        }
        String bind = settings.text("bind").strip();
        if (bind.isEmpty() || bind.equals("0.0.0.0") || bind.equals("::") || bind.equals("[::]")) {
            bind = "127.0.0.1";
        } else if (bind.contains(":") && !bind.startsWith("[")) {
            bind = "[" + bind + "]";
        }
        return parse("http://" + bind + ":" + port);
    }

    /**
     * The URL of the server that runs on this data directory, from its {@code server.json};
     * empty when there is none, or when the process that wrote it is gone (a server killed
     * without its shutdown leaves the file behind).
     */
    static Optional<URI> runningServer(Path dataDir) {
        Path file = dataDir.resolve(TetherServer.SERVER_FILE);
        Map<?, ?> info;
        try {
            info = JSON.readValue(Files.readAllBytes(file), Map.class);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw TetherException.invalid("cannot read " + file + ": " + e.getMessage()
                    + "; delete it if no server runs on this data directory");
        }
        if (info.get("pid") instanceof Number pid && ProcessHandle.of(pid.longValue()).isEmpty()) {
            return Optional.empty();
        }
        if (!(info.get("url") instanceof String url)) {
            throw TetherException.invalid(file + " has no url; delete it if no server runs on this data directory");
        }
        return Optional.of(parse(url));
    }

    private static String adminToken(Path dataDir) {
        Path file = dataDir.resolve(ADMIN_TOKEN_FILE);
        if (!Files.isReadable(file)) {
            return null;
        }
        try {
            String t = Files.readString(file, StandardCharsets.UTF_8).strip();
            return t.isEmpty() ? null : t;
        } catch (IOException e) {
            return null; // unreadable after all: go without, the server says if it needs one
        }
    }

    private static URI parse(String text) {
        String t = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
        try {
            URI u = new URI(t);
            if (("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null) {
                return u;
            }
        } catch (URISyntaxException e) {
            // answered below
        }
        throw TetherException.invalid("'" + text + "' is not a server URL; expected e.g. http://127.0.0.1:8080");
    }

    /** Whether the URL names this machine; IP literals and {@code localhost} only, without a DNS look-up. */
    private static boolean loopback(URI uri) {
        String host = uri.getHost();
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        boolean literal = host.startsWith("[") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        if (!literal) {
            return false;
        }
        try {
            return InetAddress.getByName(host.replace("[", "").replace("]", "")).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
