package io.tether.server.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.server.auth.HostCheck;
import io.tether.server.auth.Principal;
import io.tether.server.auth.TokenStore;
import io.tether.server.cluster.NodeRouter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front of HTTP API v1: checks the Host header and the bearer token, hands the request
 * to its route, turns every failure into problem details, and times every request by
 * route and status. Runs each request on a virtual thread, so routes block freely.
 */
public final class ApiHandler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);
    /** One line per request (setting {@code access_log}). */
    private static final Logger ACCESS = LoggerFactory.getLogger("io.tether.server.access");
    /** What a session id looks like; anything else from a path is not logged as one. */
    private static final java.util.regex.Pattern SESSION_ID = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,64}");
    /** Who every request acts for when auth is off. */
    public static final Principal NO_AUTH = new Principal("local", true);

    /** The methods metrics name; any other is labelled {@code other}. */
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    /** The request-duration histogram's buckets (plus {@code +Inf}). */
    private static final Duration[] BUCKETS = Stream.of(5L, 25L, 100L, 250L, 1_000L, 5_000L, 30_000L, 120_000L)
            .map(Duration::ofMillis).toArray(Duration[]::new);

    private final Routes routes;
    private final HostCheck hosts;
    private final TokenStore tokens;
    private final MeterRegistry registry;
    /** The request timers met so far: looked up, not built and registered again per request. */
    private final java.util.concurrent.ConcurrentHashMap<TimerKey, Timer> timers =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final boolean accessLog;
    private final NodeRouter router;
    private final Forwarder forwarder;

    /**
     * @param tokens the tokens to accept, or {@code null} when auth is off (every request
     *     then acts as {@link #NO_AUTH})
     */
    public ApiHandler(Routes routes, HostCheck hosts, TokenStore tokens, MeterRegistry registry, boolean accessLog) {
        this(routes, hosts, tokens, registry, accessLog, null, null);
    }

    /**
     * A node of a cluster: requests about a session another node holds go to that node (see
     * {@link NodeRouter}), after this node has checked the Host header and the token.
     */
    public ApiHandler(Routes routes, HostCheck hosts, TokenStore tokens, MeterRegistry registry, boolean accessLog,
                      NodeRouter router, Forwarder forwarder) {
        this.router = router;
        this.forwarder = forwarder;
        this.accessLog = accessLog;
        this.routes = routes;
        this.hosts = hosts;
        this.tokens = tokens;
        this.registry = registry;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long started = System.nanoTime();
        Exchange x;
        try {
            x = new Exchange(request, response, segments(request.getHttpURI().getPath()));
        } catch (TetherException e) {
            x = new Exchange(request, response, List.of());
            problem(x, e);
            finish(x, started, callback);
            return true;
        }
        try {
            String host = request.getHeaders().get(HttpHeader.HOST);
            if (!hosts.allowed(host)) {
                throw TetherException.invalid("Host header '" + host + "' is not allowed here (allowed: "
                        + String.join(", ", hosts.allowedHosts()) + "; add more with the allowed_hosts setting)");
            }
            Routes.Match match = Routes.match(x);
            if (!match.open()) {
                x.principal = authenticate(x);
            }
            if (router != null && match.route() != null && !match.open() && !routes.draining()) {
                String owner = router.ownerUrl(x.principal.access(), sessionOf(x, match), x.method,
                        x.header(NodeRouter.FORWARDED_BY)).orElse(null);
                if (owner != null) {
                    Exchange forwarded = x;
                    forwarder.forward(request, response, Callback.from(() -> finish(forwarded, started, callback),
                            failure -> {
                                finish(forwarded, started, Callback.NOOP);
                                callback.failed(failure);
                            }), owner);
                    return true;
                }
            }
            routes.handle(x, match);
        } catch (Exchange.ClientGone e) {
            LOG.debug("client went away: {} {}", x.method, x.route);
        } catch (TetherException e) {
            problem(x, e);
        } catch (RuntimeException | Error e) {
            LOG.error("{} {} failed", x.method, request.getHttpURI().getPath(), e);
            problem(x, new TetherException(ErrorCode.INTERNAL, "internal error: " + e));
        }
        finish(x, started, callback);
        return true;
    }

    /** The session a request is about: the path's, or {@code Tether-Session} of an automatic execution. */
    private static String sessionOf(Exchange x, Routes.Match match) {
        if (match.template().startsWith("/v1/sessions/{id}")) {
            return x.var("id");
        }
        return match.template().equals("/v1/execute") ? x.header(Routes.SESSION_HEADER) : null;
    }

    private record TimerKey(String method, String route, int status) {
    }

    /**
     * Times a request. Every label comes from a small fixed set (a method outside
     * {@link #METHODS} is {@code other}, a path no route matched is {@code unmatched}) and the
     * histogram has {@link #BUCKETS}: whatever clients send, the meters stay few and small.
     */
    private void finish(Exchange x, long started, Callback callback) {
        timers.computeIfAbsent(new TimerKey(METHODS.contains(x.method) ? x.method : "other", x.route,
                x.response.getStatus()), k -> Timer.builder("tether.http.requests")
                        .description("HTTP requests by route and status")
                        .tag("method", k.method())
                        .tag("route", k.route())
                        .tag("status", Integer.toString(k.status()))
                        .serviceLevelObjectives(BUCKETS)
                        .register(registry))
                .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        if (accessLog && ACCESS.isInfoEnabled()) {
            ACCESS.info(accessLine(x, System.nanoTime() - started));
        }
        callback.succeeded();
    }

    /**
     * The access log's line of a request: {@code method route status duration owner session}.
     * Only the matched route's template, never the raw path, query, headers or body, so no
     * token and no client text reaches the log (a session id is logged only if it looks like one).
     */
    static String accessLine(Exchange x, long nanos) {
        String method = METHODS.contains(x.method) ? x.method : "other";
        String owner = x.principal == null ? "-" : x.principal.owner();
        String session = x.response.getHeaders().get(Routes.SESSION_HEADER);
        if (session == null && x.principal != null && x.vars.containsKey("id")) { // not from a refused request
            session = x.var("id");
        }
        if (session == null || !SESSION_ID.matcher(session).matches()) {
            session = "-";
        }
        // Written out by hand: String.format's parser and decimal formatting were a tenth
        // of the garbage of a request. Milliseconds with one decimal, rounded half up.
        long tenths = (Math.max(0, nanos) + 50_000) / 100_000;
        return new StringBuilder(96).append(method).append(' ').append(x.route).append(' ')
                .append(x.response.getStatus()).append(' ').append(tenths / 10).append('.').append(tenths % 10)
                .append("ms owner=").append(owner).append(" session=").append(session).toString();
    }

    private Principal authenticate(Exchange x) {
        if (tokens == null) {
            return NO_AUTH;
        }
        String header = x.header(HttpHeader.AUTHORIZATION.asString());
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new TetherException(ErrorCode.UNAUTHORIZED, "this server needs a token: send the header "
                    + "'Authorization: Bearer <token>' (create one with: tether token create --owner NAME)");
        }
        return tokens.authenticate(header.substring(7).trim()).orElseThrow(() -> new TetherException(
                ErrorCode.UNAUTHORIZED, "the token is not valid (unknown or revoked)"));
    }

    private static void problem(Exchange x, TetherException e) {
        if (x.response.isCommitted()) {
            LOG.debug("{} {} failed after the response started: {}", x.method, x.route, e.toString());
            return;
        }
        int status = e instanceof Routes.MethodNotAllowed ? 405 : Wire.status(e.code());
        if (status == 500) {
            LOG.warn("{} {}: {}", x.method, x.route, e.toString());
        }
        x.response.getHeaders().clear();
        if (e instanceof Routes.MethodNotAllowed m) {
            x.response.getHeaders().put(HttpHeader.ALLOW, m.allow);
        }
        if (e.code() == ErrorCode.UNAUTHORIZED) {
            x.response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"tether\"");
        }
        try {
            x.send(status, Wire.PROBLEM_TYPE, Wire.bytes(Wire.problem(status, e.code(), e.getMessage())));
        } catch (Exchange.ClientGone gone) {
            LOG.debug("client went away before its error: {}", e.toString());
        }
    }

    /** The decoded path segments; an empty or dot segment is refused. */
    static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        if (rawPath == null) {
            return out;
        }
        for (String raw : rawPath.split("/", -1)) {
            if (raw.isEmpty()) {
                continue;
            }
            String s;
            try {
                s = URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw TetherException.invalid("the path has a malformed %-escape: " + raw);
            }
            out.add(s);
        }
        return out;
    }
}
