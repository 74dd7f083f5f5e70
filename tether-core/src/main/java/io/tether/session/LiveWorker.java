package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.ExecutionOutput;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerState;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker side of a live session: its worker, the gate that runs one execution at a
 * time, in arrival order, with a bounded queue, and the session's totals: the disk quota of
 * its working directory and its CPU time, checked after every execution and by the manager's
 * limit watch, between executions too (a background thread or process keeps running then).
 *
 * <p>The worker's death is known here: either this class killed it (for a limit, with that
 * reason) or the worker died by itself (its state says {@code DEAD}); see {@link #death}.
 */
final class LiveWorker {
    final Worker worker;
    private final ReentrantLock gate = new ReentrantLock(true);
    private final int maxQueued;
    private int queued; // guarded by this
    private long executions; // guarded by gate
    private final DiskQuota.Directory disk;
    private final Duration cpuLimit; // null = none
    private volatile Duration cpuAtStart; // what the worker had used when the session got it (or it restarted)
    private volatile Duration cpuBefore = Duration.ZERO; // used by the interpreters before the last restart
    private final long cpuCheckNanos; // after an execution, CPU time is read at most this often
    private volatile long cpuCheckedAt = System.nanoTime();
    private volatile boolean busy;
    private volatile Running running; // written under this
    private volatile WorkerDeath killed; // written once, under this

    /**
     * @param cpuLimit      the CPU time the worker's processes may use in all; {@code null} for
     *                      no limit
     * @param checkInterval the manager's limit check interval: after an execution the CPU time
     *                      is read only when it was last read longer ago than this (reading it
     *                      walks the process tree in {@code /proc}, tens of µs, as much as an
     *                      execution round trip), so a session running short executions back
     *                      to back pays for one read per interval. {@link Duration#ZERO}: after
     *                      every execution
     */
    LiveWorker(Worker worker, int maxQueued, DiskQuota diskQuota, Duration cpuLimit, Duration checkInterval) {
        this.worker = worker;
        this.maxQueued = maxQueued;
        this.disk = diskQuota.directory(worker.workingDirectory());
        this.cpuLimit = cpuLimit;
        this.cpuCheckNanos = checkInterval.toNanos();
        this.cpuAtStart = startingCpu();
    }

    /**
     * The worker's CPU time now, the base the session's use is counted from: an interpreter
     * that costs CPU to start (a JVM: a second or more) is not charged to the session.
     */
    private Duration startingCpu() {
        return cpuLimit == null ? Duration.ZERO : worker.cpuTime().orElse(Duration.ZERO);
    }

    /**
     * Restarts the worker. What the old interpreter used stays charged (a restart does not
     * renew the session's CPU time); the fresh interpreter's start is not charged.
     */
    void restart() {
        Duration used = cpuUsed();
        if (used != null) {
            cpuBefore = used;
        }
        worker.restart();
        cpuAtStart = startingCpu();
    }

    /** The CPU time the session's interpreters used in all, or {@code null} when unknown. */
    private Duration cpuUsed() {
        return worker.cpuTime().map(t -> t.minus(cpuAtStart).plus(cpuBefore)).orElse(null);
    }

    /** Whether an execution is running: a busy session is never expired for idleness. */
    boolean busy() {
        return busy;
    }

    /**
     * Waits for this session's earlier executions (and restarts), then marks it busy. The
     * wait counts against {@code timeout}: an execution's timeout covers its time in the
     * queue and its run together, so a caller never waits much longer than it asked to, and
     * code that did not get its turn in time never runs (not later either).
     *
     * @param timeout how long the caller may wait and then run; {@code null} for no limit
     * @return what is left of {@code timeout} for the run; {@code null} when it was {@code null}
     * @throws TetherException {@code limit_exceeded} when {@code maxQueued} executions are
     *     already waiting, or when the session's earlier work took the whole timeout
     */
    Duration enter(String sessionId, Duration timeout) {
        long start = System.nanoTime();
        synchronized (this) {
            if (queued >= maxQueued + 1) {
                throw new TetherException(ErrorCode.LIMIT_EXCEEDED, "session '" + sessionId + "' already has "
                        + maxQueued + " executions waiting behind the running one");
            }
            queued++;
        }
        boolean turn;
        try {
            if (timeout == null) {
                gate.lockInterruptibly();
                turn = true;
            } else {
                turn = gate.tryLock(saturatedNanos(timeout), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            leaveQueue();
            Thread.currentThread().interrupt();
            throw new TetherException(ErrorCode.INTERNAL, "interrupted while waiting to execute", e);
        }
        Duration left = timeout == null ? null : timeout.minusNanos(System.nanoTime() - start);
        if (left != null && !left.isPositive()) {
            if (turn) {
                gate.unlock();
            }
            leaveQueue();
            throw new TetherException(ErrorCode.LIMIT_EXCEEDED, "the execution did not start within its timeout of "
                    + seconds(timeout) + ": session '" + sessionId + "' was busy with earlier executions all that "
                    + "time; the code did not run and will not");
        }
        busy = true;
        return left;
    }

    /**
     * Takes the worker for a short request that needs its interpreter idle (completion,
     * inspection) when nothing runs or waits; does not queue, and does not mark it busy.
     * Call {@link #release} after.
     *
     * @return false when an execution runs or waits, or a restart holds the worker
     */
    boolean tryTake() {
        synchronized (this) {
            if (queued > 0) {
                return false;
            }
        }
        return gate.tryLock();
    }

    /** Gives back the worker {@link #tryTake} took. */
    void release() {
        gate.unlock();
    }

    private synchronized void leaveQueue() {
        queued--;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** The number of the next execution; call between {@link #enter} and {@link #exit}. */
    long nextNumber() {
        return ++executions;
    }

    /** Marks execution {@code number} as running; call between {@link #enter} and {@link #exit}. */
    Running begin(long number, String code, Instant startedAt) {
        Running r = new Running(number, code, startedAt);
        synchronized (this) {
            running = r;
        }
        return r;
    }

    /**
     * Interrupts the running execution by its number, so that one begun but not yet sent to
     * the interpreter (the caller may have been told it started) is interrupted as it is sent;
     * with none running, whatever the worker runs.
     */
    void interrupt() {
        Running r = running;
        if (r != null) {
            worker.interrupt(r.number);
        } else {
            worker.interrupt();
        }
    }

    void end(Running r) {
        synchronized (this) {
            if (running == r) {
                running = null;
            }
        }
    }

    /**
     * Runs {@code request} in the worker as the running execution {@code r} (between
     * {@link #begin} and {@link #end}), then checks the disk quota and the CPU time.
     *
     * @return the worker's result; when the worker was killed meanwhile (over its quota now or
     *     while it ran), that result ended {@code crashed} with the reason as its error
     * @throws TetherException as {@link Worker#execute}, unless the worker was killed
     */
    ExecutionResult execute(Running r, ExecutionRequest request, OutputListener listener) {
        ExecutionResult result;
        try {
            result = worker.execute(request, listener);
        } catch (TetherException e) {
            if (killed == null) {
                throw e;
            }
            // killed between begin() and the worker's start: the closed worker refused to run it
            result = new ExecutionResult(request.number(), ExecutionStatus.CRASHED, "", "", null, null,
                    Duration.ZERO, false);
        }
        if (killed == null) {
            WorkerDeath over = overLimit(System.nanoTime() - cpuCheckedAt >= cpuCheckNanos);
            if (over != null) {
                kill(r, over);
            }
        }
        WorkerDeath death = killed;
        result = death == null ? result : death.applyTo(result);
        r.ended(result);
        return result;
    }

    /**
     * Checks the session's totals now, whether an execution runs or not, and kills the worker
     * when one is past its limit. An execution that was running then ends {@code crashed}
     * (see {@link #execute}) and its session ends as it returns.
     *
     * @return why this call killed the worker between executions, so the caller ends the
     *     session; {@code null} when it killed none or killed it under a running execution
     */
    WorkerDeath checkLimits() {
        if (killed != null) {
            return null;
        }
        Running r = running;
        WorkerDeath over = overLimit(true);
        if (over == null) {
            return null;
        }
        if (r != null) {
            kill(r, over);
            return null;
        }
        synchronized (this) {
            if (running != null || killed != null) {
                return null; // an execution began meanwhile: it checks after it ran
            }
            killed = over;
        }
        worker.close();
        return over;
    }

    /**
     * How the worker dies for a total past its limit now, or {@code null} when none is.
     *
     * @param cpu whether to read the CPU time too
     */
    private WorkerDeath overLimit(boolean cpu) {
        if (cpu && cpuLimit != null) {
            cpuCheckedAt = System.nanoTime();
            Duration used = cpuUsed();
            if (used != null && used.compareTo(cpuLimit) > 0) {
                return WorkerDeath.cpuTimeExceeded("the session's processes used " + seconds(used)
                        + " of CPU time, its limit is " + seconds(cpuLimit));
            }
        }
        return disk.check();
    }

    /** Bytes the working directory can take before it passes the disk quota ({@link DiskQuota.Directory#room}). */
    long diskRoom() {
        return disk.room();
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.2f s", d.toNanos() / 1e9);
    }

    /** Kills the worker for {@code why} if execution {@code r} still runs and nothing killed it yet. */
    private boolean kill(Running r, WorkerDeath why) {
        synchronized (this) {
            if (running != r || killed != null) {
                return false;
            }
            killed = why;
        }
        worker.close(); // kills the process; the running execution ends and the directory goes
        return true;
    }

    /**
     * Why the worker is dead: the reason it was killed for, or {@link WorkerDeath#CRASHED}
     * when it died by itself; {@code null} while it lives.
     */
    WorkerDeath death() {
        WorkerDeath k = killed;
        if (k != null) {
            return k;
        }
        return worker.state() == WorkerState.DEAD ? WorkerDeath.CRASHED : null;
    }

    /** The record of execution {@code number} if it is the one running now, else {@code null}. */
    ExecutionRecord runningRecord(String sessionId, long number) {
        Running r = running;
        return r == null || r.number != number ? null : r.record(sessionId, worker);
    }

    /** The record of the execution running now, or {@code null}. */
    ExecutionRecord runningRecord(String sessionId) {
        Running r = running;
        return r == null ? null : r.record(sessionId, worker);
    }

    void exit() {
        busy = false;
        gate.unlock();
        leaveQueue();
    }

    /**
     * The execution running now. Its output so far is the worker's to keep (see
     * {@link Worker#outputSoFar}): one buffer, the one its result is made of.
     */
    static final class Running {
        final long number;
        final String code;
        final Instant startedAt;
        private final long startedNanos = System.nanoTime();
        /** Its result once the worker returned it; until it is stored, its output comes from here. */
        private volatile ExecutionResult result;

        Running(long number, String code, Instant startedAt) {
            this.number = number;
            this.code = code;
            this.startedAt = startedAt;
        }

        void ended(ExecutionResult r) {
            result = r;
        }

        ExecutionRecord record(String sessionId, Worker worker) {
            ExecutionResult done = result;
            ExecutionOutput out = done != null
                    ? new ExecutionOutput(done.stdout(), done.stderr(), done.truncated(), done.outputs().stream()
                            .filter(o -> !(o instanceof Output.ExecuteResult)).toList())
                    : worker.outputSoFar(number);
            if (out == null) {
                out = ExecutionOutput.NONE;
            }
            ExecutionResult soFar = new ExecutionResult(number, ExecutionStatus.RUNNING, out.stdout(), out.stderr(),
                    Map.of(), null, Duration.ofNanos(System.nanoTime() - startedNanos), out.truncated(), out.outputs());
            return new ExecutionRecord(sessionId, code, startedAt, null, soFar);
        }
    }
}
