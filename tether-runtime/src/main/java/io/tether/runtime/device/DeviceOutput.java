package io.tether.runtime.device;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;

/**
 * One execution's output: kept up to the output limit (then marked truncated) and passed on
 * to the execution's listener as it arrives. A device has one output stream; it is stdout.
 */
final class DeviceOutput implements RawRepl.Sink {
    private final long maxBytes;
    private final OutputListener listener;
    private final StringBuilder kept = new StringBuilder();
    private long keptBytes;
    private boolean truncated;
    private boolean listening = true;

    DeviceOutput(long maxBytes, OutputListener listener) {
        this.maxBytes = maxBytes;
        this.listener = listener == null ? OutputListener.NONE : listener;
    }

    @Override
    public void text(String text) {
        if (!truncated) {
            long bytes = text.getBytes(StandardCharsets.UTF_8).length;
            if (keptBytes + bytes <= maxBytes) {
                kept.append(text);
                keptBytes += bytes;
            } else {
                truncated = true;
            }
        }
        if (listening) {
            try {
                listener.output(OutputListener.Stream.STDOUT, text);
            } catch (RuntimeException e) {
                listening = false; // a listener that throws is ignored for the rest of the execution
            }
        }
    }

    String text() {
        return kept.toString();
    }

    ExecutionResult result(long number, ExecutionStatus status, ExecutionError error, Duration duration) {
        return new ExecutionResult(number, status, kept.toString(), "", Map.of(), error, duration, truncated);
    }
}
