package io.tether.client;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@link HttpClient} a Tether client sends through — one connection pool for all its
 * calls — and whether the client made it. What the client made it shuts down on
 * {@link #close()}, down to the last thread; what it was given it leaves alone.
 */
final class HttpPool implements AutoCloseable {
    /** How long close waits for requests still in flight before it aborts them. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(5);
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    final HttpClient http;
    private final boolean ownsClient;
    private final ExecutorService ownedExecutor;
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    private HttpPool(HttpClient http, boolean ownsClient, ExecutorService ownedExecutor) {
        this.http = http;
        this.ownsClient = ownsClient;
        this.ownedExecutor = ownedExecutor;
    }

    /** A pool the caller owns and closes. */
    static HttpPool external(HttpClient http) {
        return new HttpPool(http, false, null);
    }

    /**
     * A pool of its own: HTTP/1.1 (the server speaks plain HTTP; no h2c upgrade attempts),
     * no redirects, the caller's executor or one of named daemon threads.
     */
    static HttpPool own(Duration connectTimeout, Executor executor) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(connectTimeout);
        if (executor != null) {
            return new HttpPool(b.executor(executor).build(), true, null);
        }
        HttpPool[] self = new HttpPool[1];
        String prefix = "tether-client-" + CLIENTS.incrementAndGet() + "-http-";
        AtomicInteger n = new AtomicInteger();
        // Like HttpClient's default executor (a cached pool), but with threads we can wait for.
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), task -> {
                    Thread t = new Thread(task, prefix + n.incrementAndGet());
                    t.setDaemon(true);
                    self[0].threads.removeIf(old -> !old.isAlive()); // keeps the set as small as the pool
                    self[0].threads.add(t);
                    return t;
                });
        self[0] = new HttpPool(b.executor(pool).build(), true, pool);
        return self[0];
    }

    boolean ownsClient() {
        return ownsClient;
    }

    /**
     * Shuts down what this pool made: requests still in flight get {@link #CLOSE_GRACE},
     * then are aborted; returns when the HTTP client's selector thread and every thread of
     * the owned executor have ended (each wait bounded by the grace period).
     */
    @Override
    public void close() {
        if (!ownsClient) {
            return;
        }
        boolean interrupted = false;
        try {
            http.shutdown();
            if (!http.awaitTermination(CLOSE_GRACE)) {
                http.shutdownNow();
                http.awaitTermination(CLOSE_GRACE);
            }
            if (ownedExecutor != null) {
                ownedExecutor.shutdown();
                if (!ownedExecutor.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    ownedExecutor.shutdownNow();
                }
                for (Thread t : threads) {
                    t.join(CLOSE_GRACE.toMillis());
                }
            }
        } catch (InterruptedException e) {
            interrupted = true;
            http.shutdownNow();
            if (ownedExecutor != null) {
                ownedExecutor.shutdownNow();
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
