package io.tether.runtime.device;

/**
 * A background task a device session started ({@link DeviceSession#startTask}): a function
 * called again and again on the device until it is stopped. Tracked among its session's
 * resources (type {@value #RESOURCE_TYPE}), so it is stopped when the session ends, before
 * the device is reset and released. Thread-safe.
 */
public final class DeviceTask implements AutoCloseable {
    /** The resource type a task is tracked as. */
    public static final String RESOURCE_TYPE = "device_task";

    private final String name;
    private final DeviceTasks tasks;
    private volatile boolean stopped;

    DeviceTask(String name, DeviceTasks tasks) {
        this.name = name;
        this.tasks = tasks;
    }

    public String name() {
        return name;
    }

    /** Whether the device confirmed the task's loop has ended (or the device lost its state). */
    public boolean isStopped() {
        return stopped;
    }

    void markStopped() {
        stopped = true;
    }

    /**
     * Stops the task and waits until the device confirms it (at most a few seconds).
     * Idempotent.
     *
     * @throws IllegalStateException when the device did not confirm the stop in time
     */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        if (!tasks.stop(name)) {
            throw new IllegalStateException("task " + name + " did not confirm its stop within "
                    + DeviceTasks.STOP_TIMEOUT.toMillis() + " ms");
        }
        stopped = true;
    }
}
