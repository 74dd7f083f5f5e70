package io.tether.server.auth;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Host} header check against DNS rebinding: a web page on {@code evil.example}
 * whose name an attacker re-points at 127.0.0.1 reaches the server with
 * {@code Host: evil.example}, which no allowed name matches.
 *
 * <p>Allowed are {@code localhost}, {@code 127.0.0.1} and {@code [::1]}, the bind address
 * (unless it is a wildcard such as {@code 0.0.0.0} or {@code ::}, which is not a name
 * clients use: list those names as extras), and the extra hosts. A header may carry a port
 * only if it is the server's port. An extra written with a port ({@code proxy.example:8443})
 * matches exactly that host and port, for a proxy or port mapping whose port differs from
 * the server's. An extra {@code *} turns the check off: any non-blank header is allowed.
 *
 * <p>Names are compared case-insensitively; IPv6 addresses must be written in brackets in
 * the header, as in a URL ({@code [::1]:8080}), and may be given with or without them here.
 * A malformed header (two colons outside brackets, a non-numeric or empty port, spaces,
 * slashes) is not allowed.
 *
 * <p>Immutable and thread-safe.
 */
public final class HostCheck {
    private static final List<String> LOOPBACK = List.of("localhost", "127.0.0.1", "[::1]");
    private static final Set<String> WILDCARDS = Set.of("0.0.0.0", "[::]", "[0:0:0:0:0:0:0:0]");
    /** A name or IPv4 address, or a bracketed IPv6 address (with an optional zone), then an optional port. */
    private static final Pattern HOST_PORT =
            Pattern.compile("([a-z0-9_.-]+|\\[[0-9a-f:.]+(?:%[a-z0-9_.~-]+)?\\])(?::([0-9]*))?");

    private final int port;
    private final boolean anyHost;
    /** Hosts allowed with no port or the server's port. */
    private final Set<String> hosts;
    /** {@code host:port} pairs allowed exactly. */
    private final Set<String> hostPorts;
    private final Set<String> allowedHosts;

    private HostCheck(int port, boolean anyHost, Set<String> hosts, Set<String> hostPorts, Set<String> allowedHosts) {
        this.port = port;
        this.anyHost = anyHost;
        this.hosts = hosts;
        this.hostPorts = hostPorts;
        this.allowedHosts = allowedHosts;
    }

    /**
     * The check for a server bound to {@code bindAddress} and listening on {@code port}.
     *
     * @param bindAddress the address the server binds, e.g. {@code 127.0.0.1}, {@code ::1},
     *     {@code 0.0.0.0} or a host name
     * @param port the port the server actually listens on (after an ephemeral port was
     *     chosen), 1 to 65535
     * @param extraAllowedHosts further names clients use (e.g. {@code tether.internal} or
     *     {@code proxy.example:8443}); {@code *} allows any host
     * @throws IllegalArgumentException when the port is out of range or the bind address or
     *     an extra host is blank or not a host name
     * @throws NullPointerException when an argument or an extra host is null
     */
    public static HostCheck forBind(String bindAddress, int port, Collection<String> extraAllowedHosts) {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(extraAllowedHosts, "extraAllowedHosts");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be the port the server listens on, 1-65535, got " + port);
        }
        Set<String> hosts = new LinkedHashSet<>(LOOPBACK);
        Set<String> hostPorts = new LinkedHashSet<>();
        Set<String> listed = new LinkedHashSet<>(LOOPBACK);
        boolean anyHost = false;

        String bind = normalize(bindAddress, "bind address");
        if (parse(bind).port() >= 0) {
            throw new IllegalArgumentException("bind address must not have a port: " + bindAddress);
        }
        if (!WILDCARDS.contains(bind)) {
            hosts.add(bind);
            listed.add(bind);
        }
        for (String extra : extraAllowedHosts) {
            Objects.requireNonNull(extra, "an extra allowed host is null");
            if (extra.strip().equals("*")) {
                anyHost = true;
                listed.add("*");
                continue;
            }
            String name = normalize(extra, "extra allowed host");
            HostPort hp = parse(name);
            if (hp.port() < 0 || hp.port() == port) {
                hosts.add(hp.host());
                listed.add(hp.host());
            } else {
                hostPorts.add(name);
                listed.add(name);
            }
        }
        return new HostCheck(port, anyHost, Set.copyOf(hosts), Set.copyOf(hostPorts),
                Collections.unmodifiableSet(listed));
    }

    /**
     * Whether a request with this {@code Host} header may be served.
     *
     * @return false for a null, blank or malformed header, an unknown host, or a port other
     *     than the server's (unless an extra named that host and port); true for any
     *     non-blank header when {@code *} is allowed
     */
    public boolean allowed(String hostHeader) {
        if (hostHeader == null || hostHeader.isBlank()) {
            return false;
        }
        if (anyHost) {
            return true;
        }
        HostPort hp = parse(hostHeader.strip().toLowerCase(Locale.ROOT));
        if (hp == null) {
            return false;
        }
        if (hp.port() < 0 || hp.port() == port) {
            return hosts.contains(hp.host());
        }
        return hostPorts.contains(hp.host() + ":" + hp.port());
    }

    /**
     * The allowed hosts, for error messages and docs: {@code localhost}, {@code 127.0.0.1},
     * {@code [::1]}, the bind address, then the extras as normalized (lower case, IPv6 in
     * brackets; {@code *} when any host is allowed). Unmodifiable, in that order.
     */
    public Set<String> allowedHosts() {
        return allowedHosts;
    }

    @Override
    public String toString() {
        return "HostCheck[port=" + port + ", allowed=" + allowedHosts + "]";
    }

    private record HostPort(String host, int port) {
    }

    /** The host and port of a lower-case header value, or null when it is malformed; port -1 when absent. */
    private static HostPort parse(String value) {
        Matcher m = HOST_PORT.matcher(value);
        if (!m.matches()) {
            return null;
        }
        String digits = m.group(2);
        if (digits == null) {
            return new HostPort(m.group(1), -1);
        }
        if (digits.isEmpty() || digits.length() > 5) {
            return null;
        }
        int p = Integer.parseInt(digits);
        return p > 65_535 ? null : new HostPort(m.group(1), p);
    }

    /** Lower case, IPv6 in brackets; a configuration error when it is no host name at all. */
    private static String normalize(String configured, String what) {
        String v = configured.strip().toLowerCase(Locale.ROOT);
        if (!v.startsWith("[") && v.indexOf(':') != v.lastIndexOf(':')) {
            v = "[" + v + "]";
        }
        if (v.isEmpty() || parse(v) == null) {
            throw new IllegalArgumentException(what + " is not a host name, IP address or host:port: '"
                    + configured + "'");
        }
        return v;
    }
}
