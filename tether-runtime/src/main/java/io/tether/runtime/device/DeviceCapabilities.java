package io.tether.runtime.device;

/**
 * What a device is and can do, detected once when its first session starts and cached by
 * its {@link DeviceRuntime} (a later session starts without asking again).
 *
 * @param implementation {@code sys.implementation.name}, e.g. {@code micropython}
 * @param version        its version, e.g. {@code 1.27.0}
 * @param machine        the board, e.g. {@code Raspberry Pi Pico W with RP2040}, or {@code JS with Emscripten}
 * @param platform       {@code sys.platform}, e.g. {@code rp2}, {@code webassembly}
 * @param memoryBytes    the Python heap ({@code gc.mem_free() + gc.mem_alloc()})
 * @param rawPaste       whether raw-paste mode works; when not, code is sent the plain way
 * @param threads        whether {@code _thread} exists: background tasks run as threads
 * @param asyncio        whether {@code asyncio} exists: without threads, background tasks run
 *                       as asyncio tasks where the port runs them between commands (the
 *                       WebAssembly port does)
 */
public record DeviceCapabilities(String implementation, String version, String machine, String platform,
                                 long memoryBytes, boolean rawPaste, boolean threads, boolean asyncio) {

    /** What the device reports about itself, printed as one JSON line. */
    static final String PROBE = """
            import sys, gc, json
            def _tether_has(m):
                try:
                    __import__(m)
                    return True
                except ImportError:
                    return False
            gc.collect()
            print(json.dumps({"implementation": sys.implementation.name,
                "version": ".".join(str(v) for v in sys.implementation.version[:3]),
                "machine": getattr(sys.implementation, "_machine", ""), "platform": sys.platform,
                "memory": gc.mem_free() + gc.mem_alloc(), "threads": _tether_has("_thread"),
                "asyncio": _tether_has("asyncio")}))
            del _tether_has
            """;

    /** Reads what {@link #PROBE} printed. */
    static DeviceCapabilities parse(String printed, boolean rawPaste) {
        Object parsed = io.tether.runtime.python.Json.parse(printed.strip());
        if (!(parsed instanceof java.util.Map<?, ?> m)) {
            throw new IllegalArgumentException("not a JSON object: " + printed);
        }
        return new DeviceCapabilities(String.valueOf(m.get("implementation")), String.valueOf(m.get("version")),
                String.valueOf(m.get("machine")), String.valueOf(m.get("platform")),
                m.get("memory") instanceof Number n ? n.longValue() : -1, rawPaste,
                Boolean.TRUE.equals(m.get("threads")), Boolean.TRUE.equals(m.get("asyncio")));
    }
}
