package io.tether.client;

/**
 * What an {@link AutoSession} does when the server answers that its session is gone
 * ({@code 410 session_ended}: it expired, was ended, or its interpreter crashed; or
 * {@code 404 session_not_found}: the server no longer knows it). Either way the session's
 * state is lost; the policy only decides who deals with that. The call that found out had
 * not run: the server refuses a request for a gone session before running anything.
 */
public enum LostSessionPolicy {
    /**
     * The session is required: the call fails with a {@link TetherClientException} whose
     * code is {@code session_ended} or {@code session_not_found}. The handle forgets the
     * session, so a later call starts a new one (and its {@link Execution#newSession()}
     * says so). The default.
     */
    FAIL,
    /**
     * A new session is started and the call runs there. The caller is told twice: the
     * result's {@link Execution#newSession()} is {@code true}, and the listener gets
     * {@link TetherListener#sessionLost} then {@link TetherListener#sessionStarted} with the
     * id it replaces.
     */
    RECREATE
}
