package io.tether.resource;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.util.List;

/**
 * Some resources of a tracker failed to close, or did not close within the cleanup
 * timeout. Every failure is attached as a {@linkplain #getSuppressed() suppressed}
 * exception; the others were still closed.
 */
public final class ResourceCleanupException extends TetherException {
    private static final long serialVersionUID = 1L;

    private final int failed;
    private final int attempted;

    ResourceCleanupException(String owner, int attempted, List<Throwable> failures, List<String> what) {
        super(ErrorCode.INTERNAL, failures.size() + " of " + attempted + " resources of " + owner
                + " failed to close: " + String.join("; ", what));
        this.failed = failures.size();
        this.attempted = attempted;
        failures.forEach(this::addSuppressed);
    }

    /** How many resources failed to close (or timed out). */
    public int failed() {
        return failed;
    }

    /** How many resources closing was attempted on. */
    public int attempted() {
        return attempted;
    }
}
