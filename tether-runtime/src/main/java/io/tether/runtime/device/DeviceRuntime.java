package io.tether.runtime.device;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.SessionRuntime;
import io.tether.runtime.WorkDirectories;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;

/**
 * The {@code micropython} runtime: sessions drive configured MicroPython devices over their
 * raw REPL, one live session per device. A session names its device
 * ({@link WorkerOptions#device}); a second session for a device that is held waits up to
 * {@link Builder#acquireTimeout} (default: not at all) and then fails {@code limit_exceeded}.
 * What a device is ({@link DeviceCapabilities}) is asked once, when its first session starts,
 * and kept for the runtime's life.
 *
 * <p>Thread-safe. {@link #start} blocks while it connects (at most the command timeout, plus a
 * raw-paste probe the first time).
 */
public final class DeviceRuntime implements SessionRuntime {
    /** The runtime's name. */
    public static final String NAME = "micropython";

    private final Map<String, Device> devices;
    private final Duration acquireTimeout;
    private final Duration commandTimeout;
    private final Path workRoot;

    private DeviceRuntime(Builder b) {
        this.devices = Map.copyOf(b.devices);
        this.acquireTimeout = b.acquireTimeout;
        this.commandTimeout = b.commandTimeout;
        this.workRoot = b.workRoot == null ? WorkDirectories.defaultRoot() : b.workRoot;
        for (Device d : devices.values()) {
            d.rawPasteTimeout = b.rawPasteTimeout;
            d.syncFiles = b.syncFiles;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean usesDevices() {
        return true;
    }

    /**
     * A worker driving the device {@code options.device()}, once no other session holds it.
     *
     * @throws TetherException {@code invalid_request} when no device or an unknown one is named;
     *     {@code limit_exceeded} when another session holds it past the acquire timeout;
     *     {@code runtime_unavailable} when it cannot be reached (absent, unplugged, silent)
     */
    @Override
    public Worker start(WorkerOptions options) {
        Device device = device(options.device());
        device.acquire(acquireTimeout);
        try {
            return new DeviceWorker(device, options, commandTimeout, workRoot);
        } catch (RuntimeException e) {
            device.release();
            throw e;
        }
    }

    private Device device(String name) {
        if (name == null) {
            throw TetherException.invalid("a micropython session names its device; configured: " + names());
        }
        Device d = devices.get(name);
        if (d == null) {
            throw TetherException.invalid("no device '" + name + "' here; configured: " + names());
        }
        return d;
    }

    private String names() {
        return devices.isEmpty() ? "none" : String.join(", ", new java.util.TreeSet<>(devices.keySet()));
    }

    /** The configured devices, by name, in name order. */
    public List<DeviceInfo> devices() {
        List<DeviceInfo> out = new ArrayList<>();
        for (Device d : new java.util.TreeMap<>(devices).values()) {
            out.add(new DeviceInfo(d.name, d.address, d.held(), Optional.ofNullable(d.capabilities)));
        }
        return List.copyOf(out);
    }

    /** The live worker whose working directory is {@code dir}, or {@code null}. */
    DeviceWorker workerIn(Path dir) {
        for (Device d : devices.values()) {
            DeviceWorker w = d.worker;
            if (w != null && w.workingDirectory().equals(dir)) {
                return w;
            }
        }
        return null;
    }

    /** What device {@code name} is, when a session found out already. */
    public Optional<DeviceCapabilities> capabilities(String name) {
        return Optional.ofNullable(device(name).capabilities);
    }

    /** Nothing runs in the background: each session closes its own link. */
    @Override
    public void close() {
    }

    /**
     * One configured device, as listed.
     *
     * @param held         whether a session holds it now
     * @param capabilities what it is, once a session found out
     */
    public record DeviceInfo(String name, DeviceAddress address, boolean held,
                             Optional<DeviceCapabilities> capabilities) {
    }

    /** A configured device: its address, who holds it, its cached capabilities. */
    static final class Device {
        private final String name;
        private final DeviceAddress address;
        private final Semaphore holder = new Semaphore(1, true);
        private volatile DeviceCapabilities capabilities;
        private volatile DeviceWorker worker;
        private volatile Duration rawPasteTimeout;
        private volatile boolean syncFiles;

        Device(String name, DeviceAddress address) {
            this.name = name;
            this.address = address;
        }

        String name() {
            return name;
        }

        DeviceAddress address() {
            return address;
        }

        DeviceCapabilities capabilities() {
            return capabilities;
        }

        void remember(DeviceCapabilities c) {
            capabilities = c;
        }

        boolean syncFiles() {
            return syncFiles;
        }

        Duration rawPasteTimeout() {
            return rawPasteTimeout;
        }

        boolean held() {
            return holder.availablePermits() == 0;
        }

        void acquire(Duration timeout) {
            boolean got;
            try {
                got = timeout.isZero() ? holder.tryAcquire() : holder.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                got = false;
            }
            if (!got) {
                throw new TetherException(ErrorCode.LIMIT_EXCEEDED, "device '" + name
                        + "' is held by another live session (one session per device)"
                        + (timeout.isZero() ? "" : "; waited " + timeout.toMillis() + " ms"));
            }
        }

        void hold(DeviceWorker w) {
            worker = w;
        }

        void forget(DeviceWorker w) {
            if (worker == w) {
                worker = null;
            }
        }

        void release() {
            holder.release();
        }
    }

    /** Builds a {@link DeviceRuntime}; every option may be set once. Not thread-safe. */
    public static final class Builder {
        private final Map<String, Device> devices = new LinkedHashMap<>();
        private Duration acquireTimeout = Duration.ZERO;
        private Duration commandTimeout = Duration.ofSeconds(10);
        private Duration rawPasteTimeout = Duration.ofSeconds(1);
        private Path workRoot;
        private boolean syncFiles = true;
        private final java.util.Set<String> set = new java.util.HashSet<>();

        private Builder() {
        }

        private void once(String option) {
            if (!set.add(option)) {
                throw new IllegalStateException(option + " was already set");
            }
        }

        /**
         * Adds a device.
         *
         * @param name    what sessions call it, {@code [A-Za-z0-9][A-Za-z0-9_.-]{0,63}}
         * @param address {@code exec:…}, {@code tcp:…} or {@code serial:…} ({@link DeviceAddress#parse})
         * @throws TetherException {@code invalid_request} for a bad name or address, or a name added twice
         */
        public Builder device(String name, String address) {
            if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
                throw TetherException.invalid("a device name matches [A-Za-z0-9][A-Za-z0-9_.-]{0,63}; got '" + name + "'");
            }
            if (devices.containsKey(name)) {
                throw TetherException.invalid("device '" + name + "' is configured twice");
            }
            devices.put(name, new Device(name, DeviceAddress.parse(address)));
            return this;
        }

        /**
         * How long a create waits for a device another session holds; zero (the default)
         * fails at once with {@code limit_exceeded}.
         */
        public Builder acquireTimeout(Duration timeout) {
            once("acquireTimeout");
            if (Objects.requireNonNull(timeout, "timeout").isNegative()) {
                throw new IllegalArgumentException("acquireTimeout must not be negative, got " + timeout);
            }
            this.acquireTimeout = timeout;
            return this;
        }

        /**
         * How long the device may take to answer a protocol step (connect, enter raw mode,
         * accept code); past it the device counts as absent. Default 10 s.
         */
        public Builder commandTimeout(Duration timeout) {
            once("commandTimeout");
            if (Objects.requireNonNull(timeout, "timeout").toMillis() < 1) {
                throw new IllegalArgumentException("commandTimeout must be at least 1 ms, got " + timeout);
            }
            this.commandTimeout = timeout;
            return this;
        }

        /**
         * How long the first session waits for a raw paste to be answered before deciding
         * the device cannot do it (and reconnecting). Default 1 s.
         */
        public Builder rawPasteTimeout(Duration timeout) {
            once("rawPasteTimeout");
            if (Objects.requireNonNull(timeout, "timeout").toMillis() < 1) {
                throw new IllegalArgumentException("rawPasteTimeout must be at least 1 ms, got " + timeout);
            }
            this.rawPasteTimeout = timeout;
            return this;
        }

        /**
         * Whether a session's local working directory mirrors the device's files (default
         * {@code true}): before each execution the files changed locally are sent (by
         * SHA-256: unchanged ones are not), after it the files the device changed are fetched,
         * so the session files API (list, get, put, delete) maps onto the device. Costs one
         * listing of the device's files, with their hashes, per execution; {@code false} leaves
         * the device's files to {@link DeviceSession}'s file methods.
         */
        public Builder syncFiles(boolean sync) {
            once("syncFiles");
            this.syncFiles = sync;
            return this;
        }

        /** Where sessions' local working directories go; default {@link WorkDirectories#defaultRoot()}. */
        public Builder workRoot(Path root) {
            once("workRoot");
            this.workRoot = Objects.requireNonNull(root, "root");
            return this;
        }

        public DeviceRuntime build() {
            return new DeviceRuntime(this);
        }
    }
}
