package io.tether.client;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What to create: every field is optional and {@code null} leaves the server's choice.
 * Build one with {@link #builder()}, or {@link #of(String)} for a runtime alone.
 *
 * @param runtime {@code python}, {@code jshell}, or {@code none} (the server's default for
 *     {@code POST /v1/sessions}: a plain session with data but no interpreter)
 * @param key get-or-create: the owner's active session with this key is returned if there is one
 * @param data the session's initial JSON state
 * @param metadata JSON describing it
 * @param idleTimeout idle time after which it expires; {@link TetherClient#NEVER} for never;
 *     {@code null} for the server's default (30 min)
 * @param maxLifetime age at which it expires; {@link TetherClient#NEVER} for never;
 *     {@code null} for the server's default
 * @param owner whom it belongs to; admin tokens only, {@code null} for the token's owner
 * @param network whether its code may use the network, where the server's sandbox allows it;
 *     {@code null} for the server's default (none)
 * @param device {@code micropython} only: the configured device the session drives (one live
 *     session per device; unless {@code key} is set the key is {@code device:<name>}, so the
 *     owner gets its live session back)
 */
public record NewSession(String runtime, String key, Map<String, Object> data, Map<String, Object> metadata,
                         Duration idleTimeout, Duration maxLifetime, String owner, Boolean network,
                         String device) {
    public NewSession {
        data = data == null ? null : Wire.frozen(data);
        metadata = metadata == null ? null : Wire.frozen(metadata);
        Wire.checkTimeout("idleTimeout", idleTimeout);
        Wire.checkTimeout("maxLifetime", maxLifetime);
    }

    /** A session of this runtime with the server's defaults for everything else. */
    public static NewSession of(String runtime) {
        return builder().runtime(runtime).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The JSON body of {@code POST /v1/sessions}. */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        putIfSet(m, "runtime", runtime);
        putIfSet(m, "key", key);
        putIfSet(m, "data", data);
        putIfSet(m, "metadata", metadata);
        if (idleTimeout != null) {
            m.put("idle_timeout", Wire.seconds(idleTimeout));
        }
        if (maxLifetime != null) {
            m.put("max_lifetime", Wire.seconds(maxLifetime));
        }
        putIfSet(m, "owner", owner);
        putIfSet(m, "network", network);
        putIfSet(m, "device", device);
        return m;
    }

    private static void putIfSet(Map<String, Object> m, String name, Object value) {
        if (value != null) {
            m.put(name, value);
        }
    }

    /** Builds a {@link NewSession}; not thread-safe. Setting a field twice is an error. */
    public static final class Builder {
        private String runtime;
        private String key;
        private Map<String, Object> data;
        private Map<String, Object> metadata;
        private Duration idleTimeout;
        private Duration maxLifetime;
        private String owner;
        private Boolean network;
        private String device;

        private Builder() {
        }

        public Builder runtime(String runtime) {
            this.runtime = Wire.once("runtime", this.runtime, Wire.nonBlank("runtime", runtime));
            return this;
        }

        public Builder key(String key) {
            this.key = Wire.once("key", this.key, Wire.nonBlank("key", key));
            return this;
        }

        public Builder data(Map<String, ?> data) {
            this.data = Wire.once("data", this.data, Wire.frozen(data));
            return this;
        }

        public Builder metadata(Map<String, ?> metadata) {
            this.metadata = Wire.once("metadata", this.metadata, Wire.frozen(metadata));
            return this;
        }

        /** Idle time after which it expires; {@link TetherClient#NEVER} for never. */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = Wire.once("idleTimeout", this.idleTimeout,
                    Wire.checkTimeout("idleTimeout", idleTimeout));
            return this;
        }

        /** Age at which it expires; {@link TetherClient#NEVER} for never. */
        public Builder maxLifetime(Duration maxLifetime) {
            this.maxLifetime = Wire.once("maxLifetime", this.maxLifetime,
                    Wire.checkTimeout("maxLifetime", maxLifetime));
            return this;
        }

        /** Creates it for another owner; the server accepts this from admin tokens only. */
        public Builder owner(String owner) {
            this.owner = Wire.once("owner", this.owner, Wire.nonBlank("owner", owner));
            return this;
        }

        /** Asks for the network (or none), where the server's sandbox allows it. */
        public Builder network(boolean network) {
            this.network = Wire.once("network", this.network, network);
            return this;
        }

        /** The device a {@code micropython} session drives, by its configured name. */
        public Builder device(String device) {
            this.device = Wire.once("device", this.device, Wire.nonBlank("device", device));
            return this;
        }

        public NewSession build() {
            return new NewSession(runtime, key, data, metadata, idleTimeout, maxLifetime, owner, network, device);
        }
    }
}
