package io.tether.runtime;

import java.time.Duration;
import java.util.Objects;

/**
 * How to start one worker.
 *
 * <p>No working directory here on purpose: each worker gets a fresh private directory from
 * its runtime (see {@link Worker#workingDirectory()}), so a pool can start workers before
 * it knows which session will own them.
 *
 * @param limits  resource limits of the worker process
 * @param network whether the worker's code may use the network; a runtime whose sandbox does
 *                not allow it refuses to start such a worker. Default {@code false} (in a
 *                sandbox: no network at all; without one the question does not arise)
 * @param device  the configured device the worker drives, for a runtime of devices
 *                ({@link SessionRuntime#usesDevices}); {@code null} otherwise
 */
public record WorkerOptions(WorkerLimits limits, boolean network, String device) {
    public static final WorkerOptions DEFAULTS = new WorkerOptions(WorkerLimits.DEFAULTS);

    public WorkerOptions {
        Objects.requireNonNull(limits, "limits");
    }

    /** Options with {@code limits} and no network. */
    public WorkerOptions(WorkerLimits limits) {
        this(limits, false, null);
    }

    /** Options with {@code limits}, network allowed or not, and no device. */
    public WorkerOptions(WorkerLimits limits, boolean network) {
        this(limits, network, null);
    }

    /** These options with network allowed or not. */
    public WorkerOptions withNetwork(boolean network) {
        return network == this.network ? this : new WorkerOptions(limits, network, device);
    }

    /** These options for the device named {@code device} ({@code null}: none). */
    public WorkerOptions withDevice(String device) {
        return java.util.Objects.equals(device, this.device) ? this : new WorkerOptions(limits, network, device);
    }

    /**
     * Limits of one worker. Values of 0 mean unlimited where noted.
     *
     * @param maxOutputBytes  output kept per execution (stdout and stderr each); more is
     *                        dropped and the result marked truncated. Default 1 MiB
     * @param maxCodeBytes    largest code accepted (UTF-8). Default 1 MiB
     * @param memoryBytes     address-space limit (RLIMIT_AS); 0 = unlimited. Default 2 GiB
     * @param cpuTime         CPU time the worker's processes may use in all (the interpreter
     *                        and everything it started, see {@link Worker#cpuTime}); the
     *                        session manager checks it after every execution and every limit
     *                        check interval and ends the session {@code cpu_time_exceeded}.
     *                        Python processes also get RLIMIT_CPU one second above it as a
     *                        backstop. {@code null} = unlimited. Default unlimited
     * @param maxProcesses    process limit (RLIMIT_NPROC, per user, ignored for root);
     *                        0 = unlimited. Default 0
     * @param maxFileBytes    largest file the worker may write (RLIMIT_FSIZE); 0 =
     *                        unlimited. Default 1 GiB
     * @param diskQuotaBytes  most bytes the worker's working directory may hold, all files
     *                        at any depth ({@link DirectoryUsage}); 0 = unlimited. Enforced
     *                        by the {@code SessionManager} that owns the worker, after every
     *                        execution and periodically while one runs: past it the worker is
     *                        killed, the running execution ends {@code crashed} and the
     *                        session ends {@code error} / {@code disk_quota_exceeded}. Default
     *                        1 GiB, the default {@code maxFileBytes}: a session may keep one
     *                        file as large as it may write, but not a thousand of them, and
     *                        the disk a server needs is bounded by its session count
     * @param killGrace       after a timeout interrupt, how long before the process is
     *                        killed. Default 2 s
     */
    public record WorkerLimits(long maxOutputBytes, int maxCodeBytes, long memoryBytes, Duration cpuTime,
                               int maxProcesses, long maxFileBytes, long diskQuotaBytes, Duration killGrace) {
        public static final WorkerLimits DEFAULTS = new WorkerLimits(1L << 20, 1 << 20, 2L << 30, null, 0,
                1L << 30, 1L << 30, Duration.ofSeconds(2));

        /**
         * @throws IllegalArgumentException for a negative limit, or an output or code limit
         *     under 1 byte
         */
        public WorkerLimits {
            if (maxOutputBytes < 1 || maxCodeBytes < 1 || memoryBytes < 0 || maxProcesses < 0 || maxFileBytes < 0
                    || diskQuotaBytes < 0) {
                throw new IllegalArgumentException("worker limits must be positive (0 = unlimited where allowed)");
            }
            Objects.requireNonNull(killGrace, "killGrace");
        }
    }
}
