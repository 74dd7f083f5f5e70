package io.tether.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How often and how patiently a call is retried when retrying it is safe.
 *
 * <p>What is retried (whatever the policy):
 * <ul>
 * <li>a connection that could not be made: the request was never sent;
 * <li>{@code 503} ({@code runtime_unavailable}, {@code shutting_down}) and {@code 429}
 *     ({@code limit_exceeded}): the server refused the request and changed nothing;
 * <li>only for requests that are idempotent (reads, ends, updates, touches, file uploads,
 *     creates with a {@code key}, and executions the caller marked
 *     {@linkplain ExecuteRequest#asIdempotent() idempotent}): a connection that broke
 *     after sending, an answer that timed out, and {@code 502}/{@code 504} from a proxy.
 * </ul>
 * Never retried: an execution, interrupt or restart that may have reached the server, and
 * every other error answer.
 *
 * <p>The n-th retry waits {@code delay × backoff^(n-1)}, at most {@code maxDelay}. A
 * {@code Retry-After} header replaces that wait; when it asks for longer than
 * {@code maxDelay} the call is not retried and fails with
 * {@link TetherClientException#retryAfter()} set.
 *
 * @param maxRetries retries after the first attempt, 0–100 (0 turns retrying off)
 * @param delay wait before the first retry, positive
 * @param backoff factor by which each wait grows, 1.0–10.0
 * @param maxDelay longest single wait, at least {@code delay}
 */
public record RetryPolicy(int maxRetries, Duration delay, double backoff, Duration maxDelay) {
    /** 2 retries after 200 ms and 400 ms; waits of at most 5 s ({@code Retry-After}). */
    public static final RetryPolicy DEFAULT = new RetryPolicy(2, Duration.ofMillis(200), 2.0, Duration.ofSeconds(5));
    /** No retries. */
    public static final RetryPolicy NONE = new RetryPolicy(0, Duration.ofMillis(200), 2.0, Duration.ofSeconds(5));

    public RetryPolicy {
        if (maxRetries < 0 || maxRetries > 100) {
            throw new IllegalArgumentException("maxRetries must be from 0 to 100, got " + maxRetries);
        }
        Objects.requireNonNull(delay, "delay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        if (delay.isNegative() || delay.isZero()) {
            throw new IllegalArgumentException("delay must be positive, got " + delay);
        }
        if (!(backoff >= 1.0 && backoff <= 10.0)) {
            throw new IllegalArgumentException("backoff must be from 1.0 to 10.0, got " + backoff);
        }
        if (maxDelay.compareTo(delay) < 0) {
            throw new IllegalArgumentException("maxDelay (" + maxDelay + ") must be at least delay (" + delay + ")");
        }
    }

    public RetryPolicy withMaxRetries(int maxRetries) {
        return new RetryPolicy(maxRetries, delay, backoff, maxDelay);
    }

    public RetryPolicy withDelay(Duration delay) {
        return new RetryPolicy(maxRetries, delay, backoff, maxDelay.compareTo(delay) < 0 ? delay : maxDelay);
    }

    public RetryPolicy withBackoff(double backoff) {
        return new RetryPolicy(maxRetries, delay, backoff, maxDelay);
    }

    public RetryPolicy withMaxDelay(Duration maxDelay) {
        return new RetryPolicy(maxRetries, delay, backoff, maxDelay);
    }

    /** The wait before retry number {@code retry} (from 1), ignoring {@code Retry-After}. */
    Duration delayBefore(int retry) {
        double nanos = delay.toNanos() * Math.pow(backoff, retry - 1);
        return nanos >= maxDelay.toNanos() ? maxDelay : Duration.ofNanos((long) nanos);
    }
}
