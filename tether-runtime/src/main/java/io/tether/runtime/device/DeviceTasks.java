package io.tether.runtime.device;

/** The tasks a device session deployed and the background tasks it started. */
final class DeviceTasks {
    private final DeviceWorker worker;

    DeviceTasks(DeviceWorker worker) {
        this.worker = worker;
    }

    /** The device lost its state (its link was restarted): nothing deployed is there any more. */
    void forget() {
    }

    /** Runs at the end of the session, with the worker's lock held and the device idle. */
    void teardown() {
    }
}
