package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import java.util.List;
import java.util.Map;

/**
 * Why a session's worker died, and what follows for the session. A worker that crashed, was
 * killed from outside or was killed after a timeout leaves the session to the
 * {@link WorkerLossPolicy}, and its own result says what happened. A worker the manager killed
 * for passing a limit ends the session whatever the policy, and the execution that was
 * running ends {@code crashed} with this death's error.
 *
 * @param reason        what the session ends with (status {@code error})
 * @param policyDecides whether {@link WorkerLossPolicy#RESTART} may give the session a fresh
 *                      worker instead
 * @param error         what the running execution ends with; {@code null} when the worker's
 *                      own result already says it
 */
record WorkerDeath(EndReason reason, boolean policyDecides, ExecutionError error) {
    /** The worker died on its own (or was killed from outside, or after a timeout). */
    static final WorkerDeath CRASHED = new WorkerDeath(EndReason.WORKER_CRASHED, true, null);

    /** Killed because its working directory passed the disk quota; {@code why} says by how much. */
    static WorkerDeath diskQuotaExceeded(String why) {
        return new WorkerDeath(EndReason.DISK_QUOTA_EXCEEDED, false,
                new ExecutionError("DiskQuotaExceeded", why + "; the worker was killed", List.of()));
    }

    /** Killed because its processes used more CPU time than the limit; {@code why} says how much. */
    static WorkerDeath cpuTimeExceeded(String why) {
        return new WorkerDeath(EndReason.CPU_TIME_EXCEEDED, false,
                new ExecutionError("CpuTimeExceeded", why + "; the worker was killed", List.of()));
    }

    /** The result of the execution that was running when the worker died, as the session reports it. */
    ExecutionResult applyTo(ExecutionResult r) {
        if (error == null) {
            return r;
        }
        return new ExecutionResult(r.number(), ExecutionStatus.CRASHED, r.stdout(), r.stderr(), Map.of(), error,
                r.duration(), r.truncated());
    }

    /**
     * The cause the session's {@link SessionEvent.Failed} event carries.
     *
     * @param result the result of execution {@code number} the worker died under; {@code null}
     *               when it died between executions
     */
    TetherException cause(long number, ExecutionResult result) {
        if (error != null) {
            return new TetherException(ErrorCode.LIMIT_EXCEEDED, error.name() + ": " + error.value());
        }
        return new TetherException(ErrorCode.INTERNAL, result == null ? "worker died between executions"
                : "worker died: execution " + number + " ended " + result.status().wireName());
    }
}
