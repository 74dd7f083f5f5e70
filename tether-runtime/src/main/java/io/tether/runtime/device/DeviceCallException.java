package io.tether.runtime.device;

import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;

/**
 * A task call or deployment that failed on the device: it raised, timed out, was interrupted,
 * or the device was lost. {@link #result()} is the execution as the device ended it, with its
 * MicroPython traceback in {@link ExecutionResult#error()}.
 */
public final class DeviceCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient ExecutionResult result;

    DeviceCallException(String what, ExecutionResult result) {
        super(what + ": " + describe(result));
        this.result = result;
    }

    private static String describe(ExecutionResult r) {
        ExecutionError e = r.error();
        return r.status().wireName() + (e == null ? "" : " (" + e.name() + (e.value().isEmpty() ? "" : ": " + e.value()) + ")");
    }

    /** The execution that failed. */
    public ExecutionResult result() {
        return result;
    }
}
