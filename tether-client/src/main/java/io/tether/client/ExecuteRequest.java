package io.tether.client;

import java.time.Duration;
import java.util.Objects;

/**
 * Code to run in a session, with its options. {@link #of(String)} gives the defaults; the
 * {@code with…} methods return changed copies.
 *
 * @param code the code
 * @param timeout how long the code may run before the server stops it; {@code null} for
 *     the default (an automatic session's {@code callTimeout}, else the server's
 *     {@code execution_timeout}, 10 min), {@link TetherClient#NEVER} for no limit. The
 *     client waits for the answer this long plus its request timeout.
 * @param idempotent the caller's promise that running the code twice is harmless: only then
 *     does the client retry when the request may already have reached the server (the
 *     connection broke after sending, or the answer timed out). Default {@code false}.
 */
public record ExecuteRequest(String code, Duration timeout, boolean idempotent, String stdin) {
    public ExecuteRequest {
        Objects.requireNonNull(code, "code");
        Wire.checkTimeout("timeout", timeout);
    }

    /** Without stdin text. */
    public ExecuteRequest(String code, Duration timeout, boolean idempotent) {
        this(code, timeout, idempotent, null);
    }

    /** This code with the default timeout, not idempotent. */
    public static ExecuteRequest of(String code) {
        return new ExecuteRequest(code, null, false, null);
    }

    public ExecuteRequest withTimeout(Duration timeout) {
        return new ExecuteRequest(code, timeout, idempotent, stdin);
    }

    /** Marks the code safe to run twice, so that it is retried also when it may have run. */
    public ExecuteRequest asIdempotent() {
        return new ExecuteRequest(code, timeout, true, stdin);
    }

    /**
     * Text the code reads as standard input ({@code input()}, {@code sys.stdin},
     * {@code System.in}), line by line; past its end a streamed execution asks for more
     * ({@link ExecutionEvent.InputRequest}), any other reads end of file (Python's
     * {@code input()} raises {@code EOFError}). {@code null} for none.
     */
    public ExecuteRequest withStdin(String stdin) {
        return new ExecuteRequest(code, timeout, idempotent, stdin);
    }
}
