package io.tether.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How an {@link AutoSession} behaves, declared once and shared by any number of handles.
 * Build with {@link #builder()}; {@link #DEFAULTS} has every default. A {@code null}
 * component takes the client's setting.
 *
 * @param onLost what happens when the server says the session is gone; default
 *     {@link LostSessionPolicy#FAIL} (the session is required)
 * @param callTimeout how long each execution may run before the server stops it (sent as
 *     the execution's {@code timeout}; the client waits that plus its request timeout);
 *     {@code null} for the server's {@code execution_timeout} (10 min), {@link TetherClient#NEVER}
 *     for no limit. An {@link ExecuteRequest#timeout()} overrides it for one call.
 * @param retryPolicy retries (count, delay, backoff) for this handle's calls; {@code null}
 *     for the client's
 * @param streamTimeout longest silence on an event stream; {@code null} for the client's (60 s)
 * @param idempotent whether every execution of this handle is safe to run twice, so that it
 *     is retried also when it may have run; default {@code false}
 * @param listener hears the sessions it starts, loses and ends, and its retries;
 *     {@code null} for the client's
 */
public record AutoSessionSettings(LostSessionPolicy onLost, Duration callTimeout, RetryPolicy retryPolicy,
                                  Duration streamTimeout, boolean idempotent, TetherListener listener) {
    /** Every default: fail when the session is lost, the server's timeouts, the client's retries. */
    public static final AutoSessionSettings DEFAULTS = builder().build();

    public AutoSessionSettings {
        Objects.requireNonNull(onLost, "onLost");
        Wire.checkTimeout("callTimeout", callTimeout);
        if (streamTimeout != null) {
            Wire.positive("streamTimeout", streamTimeout);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link AutoSessionSettings}; not thread-safe. Setting an option twice is an error. */
    public static final class Builder {
        private LostSessionPolicy onLost;
        private Duration callTimeout;
        private RetryPolicy retryPolicy;
        private Duration streamTimeout;
        private Boolean idempotent;
        private TetherListener listener;

        private Builder() {
        }

        /** What happens when the server says the session is gone; default {@link LostSessionPolicy#FAIL}. */
        public Builder onLost(LostSessionPolicy onLost) {
            this.onLost = Wire.once("onLost", this.onLost, Objects.requireNonNull(onLost, "onLost"));
            return this;
        }

        /** Timeout of each execution; {@link TetherClient#NEVER} for none; default the server's. */
        public Builder callTimeout(Duration callTimeout) {
            this.callTimeout = Wire.once("callTimeout", this.callTimeout,
                    Wire.checkTimeout("callTimeout", Objects.requireNonNull(callTimeout, "callTimeout")));
            return this;
        }

        /** Retry count, delay and backoff for this handle; default the client's. */
        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Wire.once("retryPolicy", this.retryPolicy,
                    Objects.requireNonNull(retryPolicy, "retryPolicy"));
            return this;
        }

        /** Longest silence on an event stream; default the client's. */
        public Builder streamTimeout(Duration streamTimeout) {
            this.streamTimeout = Wire.once("streamTimeout", this.streamTimeout,
                    Wire.positive("streamTimeout", streamTimeout));
            return this;
        }

        /** Declares every execution of the handle safe to run twice; default {@code false}. */
        public Builder idempotent(boolean idempotent) {
            this.idempotent = Wire.once("idempotent", this.idempotent, idempotent);
            return this;
        }

        /** Hears the sessions the handle starts, loses and ends, and its retries; default the client's listener. */
        public Builder listener(TetherListener listener) {
            this.listener = Wire.once("listener", this.listener, Objects.requireNonNull(listener, "listener"));
            return this;
        }

        public AutoSessionSettings build() {
            return new AutoSessionSettings(onLost != null ? onLost : LostSessionPolicy.FAIL, callTimeout, retryPolicy,
                    streamTimeout, idempotent != null && idempotent, listener);
        }
    }
}
