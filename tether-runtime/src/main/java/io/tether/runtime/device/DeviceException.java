package io.tether.runtime.device;

import java.io.IOException;

/**
 * A device did not behave as the raw REPL protocol says: it did not answer in time
 * ({@link Kind#TIMEOUT}), the link ended ({@link Kind#LOST}), or it answered something
 * else ({@link Kind#PROTOCOL}).
 */
final class DeviceException extends IOException {
    private static final long serialVersionUID = 1L;

    enum Kind { TIMEOUT, LOST, PROTOCOL }

    private final Kind kind;

    DeviceException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }
}
