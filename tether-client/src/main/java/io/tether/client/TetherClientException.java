package io.tether.client;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Every failure of a call, with a stable machine-readable {@link #code()}.
 *
 * <p>When the server answered, the code is its problem-details code (see
 * {@code docs/http-api.md}: {@code invalid_request}, {@code unauthorized}, {@code forbidden},
 * {@code session_not_found}, {@code not_found}, {@code session_ended}, {@code session_busy},
 * {@code payload_too_large}, {@code limit_exceeded}, {@code runtime_unavailable},
 * {@code shutting_down}, {@code store_failure}, {@code internal}, {@code no_input_requested}) and
 * {@link #status()} is
 * the HTTP status. When it did not, the status is {@code 0} and the code is the client's:
 * <ul>
 * <li>{@code connection_failed}: no connection could be made; the request was not sent.
 * <li>{@code connection_lost}: the connection broke after the request was sent; it may
 *     have been carried out ({@link #outcomeUnknown()}).
 * <li>{@code timeout}: no answer within the request timeout; it may have been carried out.
 * <li>{@code stream_timeout}: an event stream stayed silent longer than the stream
 *     timeout; the execution goes on in the server.
 * <li>{@code interrupted}: the calling thread was interrupted while it waited.
 * <li>{@code unexpected_response}: an answer that is not Tether's (e.g. a proxy's error
 *     page), or that could not be read.
 * </ul>
 * An execution that fails inside the interpreter is not an exception: it is an
 * {@link Execution} with status {@code error}, {@code timeout}, {@code interrupted} or
 * {@code crashed}.
 */
public final class TetherClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String code;
    private final int status;
    private final String detail;
    private final Duration retryAfter;
    private final boolean notSent;
    private final boolean outcomeUnknown;

    TetherClientException(String code, int status, String detail, Duration retryAfter, boolean notSent,
                          boolean outcomeUnknown, Throwable cause) {
        super(code + (status > 0 ? " (" + status + ")" : "") + ": " + detail, cause);
        this.code = Objects.requireNonNull(code, "code");
        this.status = status;
        this.detail = detail;
        this.retryAfter = retryAfter;
        this.notSent = notSent;
        this.outcomeUnknown = outcomeUnknown;
    }

    /** A problem the server answered with. */
    static TetherClientException problem(String code, int status, String detail, Duration retryAfter) {
        return new TetherClientException(code, status, detail, retryAfter, false, false, null);
    }

    /** A failure with no answer from the server. */
    static TetherClientException local(String code, String detail, boolean notSent, boolean outcomeUnknown,
                                       Throwable cause) {
        return new TetherClientException(code, 0, detail, null, notSent, outcomeUnknown, cause);
    }

    /** The stable code: the server's problem code, or one of the client's (see the class comment). */
    public String code() {
        return code;
    }

    /** The HTTP status, or {@code 0} when no answer came. */
    public int status() {
        return status;
    }

    /** What went wrong, in words. */
    public String detail() {
        return detail;
    }

    /** The server's {@code Retry-After}, when it sent one (429, 503) and the client did not wait that long. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /**
     * Whether the request may have been carried out although no answer came: the
     * connection broke after sending, or the answer timed out. An execution may then have
     * run (or still run); it was not retried unless it was marked idempotent.
     */
    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }

    /**
     * Whether the server says the session does not exist or has ended
     * ({@code 404 session_not_found} or {@code 410 session_ended}).
     */
    public boolean sessionGone() {
        return code.equals("session_not_found") || code.equals("session_ended");
    }

    /** The request never left the client (no connection could be made). */
    boolean notSent() {
        return notSent;
    }
}
