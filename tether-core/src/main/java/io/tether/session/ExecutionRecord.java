package io.tether.session;

import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import java.time.Instant;
import java.util.Objects;

/**
 * One execution of a session as it is kept: so a client that went away mid-stream can
 * still fetch its output by number.
 *
 * @param sessionId the session it ran in
 * @param code      the source that ran
 * @param startedAt when it started running (after waiting its turn)
 * @param endedAt   when it ended; {@code null} while it runs
 * @param result    what it produced; while it runs, the output so far with status
 *                  {@link ExecutionStatus#RUNNING}
 */
public record ExecutionRecord(String sessionId, String code, Instant startedAt, Instant endedAt,
                              ExecutionResult result) {
    public ExecutionRecord {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(result, "result");
        if ((endedAt == null) != (result.status() == ExecutionStatus.RUNNING)) {
            throw new IllegalArgumentException("an execution has an end time exactly when it is no longer running");
        }
    }

    /** Its number in the session (1, 2, …). */
    public long number() {
        return result.number();
    }

    /** Whether it is still running. */
    public boolean running() {
        return endedAt == null;
    }
}
