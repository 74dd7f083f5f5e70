package io.tether.store.postgres;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where a PostgreSQL store is: a {@code postgresql://user:password@host:port/db} URL (as
 * libpq and most tools write it; {@code postgres://} too) or a {@code jdbc:postgresql:} URL,
 * split into a JDBC URL without credentials, the user and the password.
 *
 * <p>The password never leaves this object except through {@link #password()}, for the
 * connection pool: {@link #toString()} and {@link #redacted()} show the URL without it, and
 * parse errors never quote the input. Immutable.
 */
public final class PostgresUrl {
    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final String redacted;

    private PostgresUrl(String jdbcUrl, String user, String password, String redacted) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.redacted = redacted;
    }

    /**
     * Parses {@code url}.
     *
     * @throws IllegalArgumentException when it is not a PostgreSQL URL; the message describes
     *     what is wrong without quoting the URL, which may hold a password
     */
    public static PostgresUrl parse(String url) {
        Objects.requireNonNull(url, "url");
        String rest;
        if (url.startsWith("jdbc:postgresql://")) {
            rest = url.substring("jdbc:postgresql://".length());
        } else if (url.startsWith("postgresql://")) {
            rest = url.substring("postgresql://".length());
        } else if (url.startsWith("postgres://")) {
            rest = url.substring("postgres://".length());
        } else {
            throw new IllegalArgumentException("a PostgreSQL store URL starts with postgresql:// or "
                    + "jdbc:postgresql:// (e.g. postgresql://tether@db.example:5432/tether)");
        }
        URI uri;
        try {
            uri = new URI("postgresql://" + rest);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("the PostgreSQL store URL is malformed at index "
                    + (e.getIndex() - "postgresql://".length() + (url.length() - rest.length())) + ": " + e.getReason());
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("the PostgreSQL store URL names no host");
        }
        String database = uri.getRawPath() == null || uri.getRawPath().length() <= 1 ? null
                : decode(uri.getRawPath().substring(1));
        if (database == null || database.contains("/")) {
            throw new IllegalArgumentException("the PostgreSQL store URL must name one database, as in "
                    + "postgresql://host:5432/tether");
        }
        String user = null;
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String info = uri.getRawUserInfo();
            int colon = info.indexOf(':');
            user = decode(colon < 0 ? info : info.substring(0, colon));
            password = colon < 0 ? null : decode(info.substring(colon + 1));
        }
        List<String> kept = new ArrayList<>();
        if (uri.getRawQuery() != null) {
            for (String p : uri.getRawQuery().split("&")) {
                int eq = p.indexOf('=');
                String key = decode(eq < 0 ? p : p.substring(0, eq));
                String value = eq < 0 ? "" : decode(p.substring(eq + 1));
                switch (key) {
                    case "user" -> user = value;
                    case "password" -> password = value;
                    default -> kept.add(p);
                }
            }
        }
        String hostPort = (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host)
                + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
        String query = kept.isEmpty() ? "" : "?" + String.join("&", kept);
        String jdbc = "jdbc:postgresql://" + hostPort + "/" + uri.getRawPath().substring(1) + query;
        String shown = "postgresql://" + (user == null ? "" : user + "@") + hostPort + "/" + database + query;
        return new PostgresUrl(jdbc, user, password, shown);
    }

    /** This URL with another password (one read from a file or the environment). */
    public PostgresUrl withPassword(String newPassword) {
        return new PostgresUrl(jdbcUrl, user, Objects.requireNonNull(newPassword, "newPassword"), redacted);
    }

    /** The JDBC URL without user or password. */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** The user, or {@code null} for the driver's default (the operating-system user). */
    public String user() {
        return user;
    }

    /** The password, or {@code null}. Never log it. */
    public String password() {
        return password;
    }

    /** Whether a password is set. */
    public boolean hasPassword() {
        return password != null;
    }

    /** The URL as {@code postgresql://user@host:port/db}: no password, safe to log. */
    public String redacted() {
        return redacted;
    }

    @Override
    public String toString() {
        return redacted;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
