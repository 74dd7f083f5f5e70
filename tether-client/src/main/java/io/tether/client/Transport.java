package io.tether.client;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * Sends the requests of one client over its one {@link HttpClient}, and retries what is
 * safe to retry (see {@link RetryPolicy}). Every body is read to its end, so the
 * connection goes back to the pool for the next call.
 */
final class Transport {
    static final String SESSION_HEADER = "Tether-Session";
    static final String EXECUTION_HEADER = "Tether-Execution";

    private final HttpClient http;
    private final String base;
    private final String authorization;
    private final String userAgent;
    private final Sleeper sleeper;

    /** How a retry waits; tests replace it so that they do not sleep. */
    @FunctionalInterface
    interface Sleeper {
        Sleeper REAL = d -> Thread.sleep(d);

        void sleep(Duration d) throws InterruptedException;
    }

    /**
     * One request, described once so that it can be sent again.
     *
     * @param sessionId sent as {@code Tether-Session}, or {@code null}
     * @param timeout how long to wait for the answer's headers; {@code null} for no limit
     * @param idempotent whether sending it twice is harmless (see {@link RetryPolicy})
     */
    record Call(String method, String path, byte[] body, String contentType, String sessionId, Duration timeout,
                boolean idempotent) {
        static Call json(String method, String path, Object json, String sessionId, Duration timeout,
                         boolean idempotent) {
            return new Call(method, path, json == null ? null : Wire.bytes(json), json == null ? null
                    : "application/json", sessionId, timeout, idempotent);
        }

        /** Method and path without the query, for listeners and messages. */
        String describe() {
            int q = path.indexOf('?');
            return method + " " + (q < 0 ? path : path.substring(0, q));
        }
    }

    /** A successful answer. */
    record Reply(int status, HttpHeaders headers, byte[] body) {
        Optional<String> header(String name) {
            return headers.firstValue(name);
        }
    }

    /** A stream whose 200 answer has arrived; its events follow through {@code lines}. */
    record OpenStream(HttpHeaders headers, EventLines lines, CompletableFuture<?> exchange) {
    }

    Transport(HttpClient http, URI base, String token, String userAgent, Sleeper sleeper) {
        this.http = http;
        String b = base.toString();
        this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
        this.authorization = token == null ? null : "Bearer " + token;
        this.userAgent = userAgent;
        this.sleeper = sleeper;
    }

    /**
     * Sends a call, retrying what is safe, and returns its 2xx answer.
     *
     * @throws TetherClientException for an error answer or a failure without one
     */
    Reply send(Call call, RetryPolicy retry, TetherListener listener) {
        return retrying(call, retry, listener, () -> sendOnce(call));
    }

    /**
     * Sends a call that answers with server-sent events and returns once its {@code 200}
     * headers arrived (the execution has started), retrying what is safe before that.
     */
    OpenStream open(Call call, RetryPolicy retry, TetherListener listener) {
        return retrying(call, retry, listener, () -> openOnce(call));
    }

    private Reply sendOnce(Call call) {
        HttpResponse<byte[]> r;
        try {
            r = http.send(request(call, "application/json"), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw failure(call, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interrupted(call);
        }
        if (r.statusCode() / 100 == 2) {
            return new Reply(r.statusCode(), r.headers(), r.body());
        }
        throw Wire.problem(r.statusCode(), r.headers(), r.body());
    }

    private OpenStream openOnce(Call call) {
        EventLines lines = new EventLines();
        CompletableFuture<HttpResponse.ResponseInfo> head = new CompletableFuture<>();
        HttpResponse.BodyHandler<byte[]> handler = info -> {
            head.complete(info);
            return info.statusCode() == 200
                    ? BodySubscribers.mapping(BodySubscribers.fromLineSubscriber(lines), v -> (byte[]) null)
                    : BodySubscribers.ofByteArray();
        };
        CompletableFuture<HttpResponse<byte[]>> exchange = http.sendAsync(request(call, "text/event-stream"), handler);
        HttpResponse.ResponseInfo info;
        try {
            CompletableFuture.anyOf(head, exchange).get();
            info = head.getNow(null);
            if (info == null) { // the exchange ended before any header: get() would have thrown
                throw Wire.unexpected(call.describe() + " ended without an answer", null);
            }
            if (info.statusCode() != 200) {
                HttpResponse<byte[]> r = exchange.get();
                throw Wire.problem(r.statusCode(), r.headers(), r.body());
            }
        } catch (ExecutionException e) {
            throw failure(call, e.getCause());
        } catch (CancellationException e) {
            throw failure(call, e);
        } catch (InterruptedException e) {
            exchange.cancel(true);
            Thread.currentThread().interrupt();
            throw interrupted(call);
        }
        return new OpenStream(info.headers(), lines, exchange);
    }

    private HttpRequest request(Call call, String accept) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + call.path()))
                .method(call.method(), call.body() == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(call.body()))
                .header("Accept", accept)
                .header("User-Agent", userAgent);
        if (call.contentType() != null) {
            b.header("Content-Type", call.contentType());
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (call.sessionId() != null) {
            b.header(SESSION_HEADER, call.sessionId());
        }
        if (call.timeout() != null) {
            b.timeout(call.timeout());
        }
        return b.build();
    }

    private <T> T retrying(Call call, RetryPolicy policy, TetherListener listener, Supplier<T> attempt) {
        for (int retry = 1; ; retry++) {
            try {
                return attempt.get();
            } catch (TetherClientException e) {
                Duration wait = waitBefore(retry, e, call.idempotent(), policy);
                if (wait == null) {
                    throw e;
                }
                listener.retrying(call.describe(), retry, wait, e);
                try {
                    sleeper.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw interrupted(call);
                }
            }
        }
    }

    /** The wait before retry number {@code retry}, or {@code null} when the failure must not be retried. */
    static Duration waitBefore(int retry, TetherClientException e, boolean idempotent, RetryPolicy policy) {
        if (retry > policy.maxRetries() || e.code().equals("interrupted")) {
            return null;
        }
        boolean refused = e.status() == 503 || e.status() == 429;
        boolean safe = e.notSent() || refused
                || (idempotent && (e.outcomeUnknown() || e.status() == 502 || e.status() == 504));
        if (!safe) {
            return null;
        }
        Optional<Duration> asked = e.retryAfter();
        if (asked.isPresent()) {
            return asked.get().compareTo(policy.maxDelay()) > 0 ? null : asked.get();
        }
        return policy.delayBefore(retry);
    }

    /** A failure without an answer, classified by whether the request may have been carried out. */
    static TetherClientException failure(Call call, Throwable e) {
        if (e instanceof TetherClientException t) {
            return t;
        }
        if (e instanceof HttpConnectTimeoutException || causedBy(e, ConnectException.class)) {
            return TetherClientException.local("connection_failed", call.describe() + ": could not connect ("
                    + e + "); the request was not sent", true, false, e);
        }
        if (e instanceof HttpTimeoutException) {
            return TetherClientException.local("timeout", call.describe() + ": no answer within " + call.timeout()
                    + "; it may have been carried out", false, true, e);
        }
        if (e instanceof CancellationException) {
            return TetherClientException.local("interrupted", call.describe() + " was cancelled", false, true, e);
        }
        return TetherClientException.local("connection_lost", call.describe() + ": the connection failed after the "
                + "request was sent (" + e + "); it may have been carried out", false, true, e);
    }

    private static TetherClientException interrupted(Call call) {
        return TetherClientException.local("interrupted", call.describe() + ": interrupted while waiting", false, true,
                null);
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
