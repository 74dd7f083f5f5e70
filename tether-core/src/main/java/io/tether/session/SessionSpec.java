package io.tether.session;

import io.tether.TetherException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What to create: a session's owner, runtime, initial state and timeouts. Immutable;
 * built with {@link #builder(String)}. Values are validated when built.
 *
 * <p>Timeouts left unset take the manager's defaults; {@link Builder#noIdleTimeout()} and
 * {@link Builder#noMaxLifetime()} ask for none.
 */
public final class SessionSpec {
    /** Longest owner name and key, in characters. */
    public static final int MAX_NAME_LENGTH = 256;
    private static final Pattern RUNTIME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    private static final Pattern DEVICE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    enum Timeout { DEFAULT, NONE, SET }

    final String owner;
    final String runtime;
    final String key;
    final Map<String, Object> data;
    final Map<String, Object> metadata;
    final Timeout idleMode;
    final Duration idleTimeout;
    final Timeout lifetimeMode;
    final Duration maxLifetime;
    final boolean network;
    final String device;

    private SessionSpec(Builder b) {
        owner = checkName(b.owner, "owner");
        runtime = b.runtime;
        if (!RUNTIME.matcher(runtime).matches()) {
            throw TetherException.invalid("runtime must match [a-z][a-z0-9_-]{0,31}, got '" + runtime + "'");
        }
        if (b.device != null && !DEVICE.matcher(b.device).matches()) {
            throw TetherException.invalid("device must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}, got '" + b.device + "'");
        }
        device = b.device;
        // One live session per device: by default its owner gets that one back (get-or-create).
        key = b.key != null ? checkName(b.key, "key") : device == null ? null : "device:" + device;
        data = JsonObjects.copyOf(b.data, "data");
        metadata = JsonObjects.copyOf(b.metadata, "metadata");
        idleMode = b.idleMode;
        idleTimeout = b.idleTimeout;
        lifetimeMode = b.lifetimeMode;
        maxLifetime = b.maxLifetime;
        network = b.network;
    }

    /** A spec for a plain session of {@code owner}. */
    public static SessionSpec of(String owner) {
        return builder(owner).build();
    }

    public static Builder builder(String owner) {
        return new Builder(owner);
    }

    public String owner() {
        return owner;
    }

    public String runtime() {
        return runtime;
    }

    /** The get-or-create key, or {@code null}. */
    public String key() {
        return key;
    }

    /** The device the session drives, or {@code null}. */
    public String device() {
        return device;
    }

    /** Whether the session's worker may use the network (where its runtime allows it). */
    public boolean network() {
        return network;
    }

    Duration idleTimeoutOr(Duration fallback) {
        return idleMode == Timeout.DEFAULT ? fallback : idleTimeout;
    }

    Duration maxLifetimeOr(Duration fallback) {
        return lifetimeMode == Timeout.DEFAULT ? fallback : maxLifetime;
    }

    private static String checkName(String value, String what) {
        if (value == null || value.isBlank() || value.length() > MAX_NAME_LENGTH) {
            throw TetherException.invalid(what + " must be 1-" + MAX_NAME_LENGTH
                    + " characters and not blank, got '" + value + "'");
        }
        return value;
    }

    static Duration checkPositive(Duration d, String what) {
        if (d == null || d.toMillis() < 1) {
            throw TetherException.invalid(what + " must be at least 1 ms, got " + d);
        }
        return d.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    private static <T> T notNull(T value, String what) {
        if (value == null) {
            throw TetherException.invalid(what + " must not be null");
        }
        return value;
    }

    /** Builds a {@link SessionSpec}. Not thread-safe. */
    public static final class Builder {
        private final String owner;
        private String runtime = Session.NO_RUNTIME;
        private String key;
        private Map<?, ?> data = Map.of();
        private Map<?, ?> metadata = Map.of();
        private Timeout idleMode = Timeout.DEFAULT;
        private Duration idleTimeout;
        private Timeout lifetimeMode = Timeout.DEFAULT;
        private Duration maxLifetime;
        private boolean network;
        private String device;

        private Builder(String owner) {
            this.owner = owner;
        }

        /** The runtime behind the session; default {@code none} (a plain session). */
        public Builder runtime(String runtime) {
            this.runtime = notNull(runtime, "runtime");
            return this;
        }

        /**
         * Whether the session's worker may use the network. Default {@code false}. A runtime
         * whose sandbox does not allow network refuses the create ({@code invalid_request}).
         */
        public Builder network(boolean network) {
            this.network = network;
            return this;
        }

        /**
         * The configured device the session drives, for a runtime of devices
         * ({@code micropython}). Unless a {@link #key} is set, the key is
         * {@code device:<name>}, so the owner's second create gets the live session back.
         */
        public Builder device(String device) {
            this.device = device;
            return this;
        }

        /** The caller-chosen key for {@link SessionManager#getOrCreate}; unique per owner among active sessions. */
        public Builder key(String key) {
            this.key = key;
            return this;
        }

        /** Initial data: a JSON object. */
        public Builder data(Map<String, ?> data) {
            this.data = notNull(data, "data");
            return this;
        }

        /** Initial metadata: a JSON object. */
        public Builder metadata(Map<String, ?> metadata) {
            this.metadata = notNull(metadata, "metadata");
            return this;
        }

        public Builder idleTimeout(Duration timeout) {
            idleTimeout = checkPositive(timeout, "idle timeout");
            idleMode = Timeout.SET;
            return this;
        }

        /** The session never expires for inactivity. */
        public Builder noIdleTimeout() {
            idleTimeout = null;
            idleMode = Timeout.NONE;
            return this;
        }

        public Builder maxLifetime(Duration lifetime) {
            maxLifetime = checkPositive(lifetime, "max lifetime");
            lifetimeMode = Timeout.SET;
            return this;
        }

        /** The session never expires for age (the default unless the manager says otherwise). */
        public Builder noMaxLifetime() {
            maxLifetime = null;
            lifetimeMode = Timeout.NONE;
            return this;
        }

        /** @throws TetherException {@code invalid_request} when a value is out of range */
        public SessionSpec build() {
            return new SessionSpec(this);
        }
    }
}
