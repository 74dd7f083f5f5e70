package io.tether.client;

import java.time.Duration;

/**
 * Hears what a client does on the caller's behalf: retries, and the sessions an
 * {@link AutoSession} starts, loses and ends. Every method has an empty default.
 *
 * <p>Called on the thread that makes the call, synchronously: keep it quick, and do not
 * call the client from it. An exception thrown here propagates to the caller.
 */
public interface TetherListener {
    /** Does nothing. */
    TetherListener NONE = new TetherListener() {
    };

    /**
     * A call failed in a way that is safe to retry and will be retried after {@code delay}.
     *
     * @param request method and path, e.g. {@code POST /v1/execute}
     * @param retry which retry this will be, from 1
     * @param delay the wait before it
     * @param cause why the previous attempt failed
     */
    default void retrying(String request, int retry, Duration delay, TetherClientException cause) {
    }

    /**
     * An automatic session got a session.
     *
     * @param sessionId the new session
     * @param replaces the lost session it replaces, or {@code null} for the handle's first
     */
    default void sessionStarted(String sessionId, String replaces) {
    }

    /** The server said an automatic session's session is gone; its state is lost. */
    default void sessionLost(String sessionId, TetherClientException cause) {
    }

    /** An automatic session ended its session on close. */
    default void sessionEnded(String sessionId) {
    }
}
