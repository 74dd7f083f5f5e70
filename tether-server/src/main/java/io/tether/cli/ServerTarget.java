package io.tether.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.TetherException;
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
import java.util.Map;
import java.util.Optional;

/**
 * Which server the CLI calls and with which token.
 *
 * <p>The URL is {@code --url} (or {@code TETHER_URL}), else the one a server running on the
 * data directory wrote into {@code server.json}, else {@value #DEFAULT_URL}. The token is
 * {@code --token} (or {@code TETHER_TOKEN}), else the admin token in the data directory's
 * {@code admin-token} file, which is sent to loopback URLs only so a local secret never
 * travels to another machine.
 *
 * @param url    the server's base URL, without a trailing slash
 * @param token  the bearer token, or {@code null} to send none
 * @param origin where the URL came from, for messages
 */
record ServerTarget(URI url, String token, String origin) {
    static final String DEFAULT_URL = "http://127.0.0.1:8080";
    static final String ADMIN_TOKEN_FILE = "admin-token";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Resolves the target of one command.
     *
     * @param url     {@code --url} or {@code TETHER_URL}; {@code null} when neither
     * @param token   {@code --token} or {@code TETHER_TOKEN}; {@code null} when neither
     * @param dataDir the data directory whose {@code server.json} and {@code admin-token} count
     * @throws TetherException {@code invalid_request} for a URL that is not http(s)
     */
    static ServerTarget resolve(String url, String token, Path dataDir) {
        URI uri;
        String origin;
        if (url != null && !url.isBlank()) {
            uri = parse(url.strip());
            origin = "--url / TETHER_URL";
        } else {
            Optional<URI> running = runningServer(dataDir);
            uri = running.orElse(URI.create(DEFAULT_URL));
            origin = running.isPresent() ? dataDir.resolve(TetherServer.SERVER_FILE) + " (written by the server)"
                    : "the default; a server on another port or data directory needs --url";
        }
        String t = token != null && !token.isBlank() ? token.strip() : null;
        if (t == null && loopback(uri)) {
            t = adminToken(dataDir);
        }
        return new ServerTarget(uri, t, origin);
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
            throw new TetherException(io.tether.ErrorCode.INVALID_REQUEST, "cannot read " + file + ": " + e.getMessage()
                    + "; delete it if no server runs on this data directory", e);
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
        throw TetherException.invalid("'" + text + "' is not a server URL; expected e.g. " + DEFAULT_URL);
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
