package io.tether;

import java.util.Objects;

/**
 * The one exception type Tether throws for failures a caller can act on.
 *
 * <p>Every instance carries a stable {@link ErrorCode}; servers map that code, and only
 * that code, to a transport status (for example HTTP problem details). The message is
 * meant for people and may change between releases; the code does not.
 */
public class TetherException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public TetherException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    public TetherException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The stable machine-readable code of this failure. */
    public ErrorCode code() {
        return code;
    }

    public static TetherException invalid(String message) {
        return new TetherException(ErrorCode.INVALID_REQUEST, message);
    }

    @Override
    public String toString() {
        return getClass().getName() + "[" + code.code() + "]: " + getMessage();
    }
}
