package io.tether.runtime.device;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * One open connection to a device: the bytes its REPL writes and the bytes it reads. A
 * link is opened by a {@link DeviceAddress} and used by one {@link RawRepl} at a time.
 * {@link #close} may be called from any thread and ends a blocked read.
 */
interface DeviceLink extends AutoCloseable {

    /** What the device writes (its REPL output); ends at end of stream when the link is lost. */
    InputStream input();

    /** What the device reads. */
    OutputStream output();

    /** The operating-system process behind the link ({@code exec:}), or -1. */
    long pid();

    /** Whether the link still stands as far as can be told without a round trip. */
    boolean isOpen();

    /** Closes the link; for {@code exec:} kills the process and its descendants. Idempotent. */
    @Override
    void close();
}
