package io.tether.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the simulated device is: tools/device-sim (MicroPython's WebAssembly port under the
 * Node 22 that npm installs there). Tests that need it are skipped when it is not installed,
 * unless {@code TETHER_REQUIRE_DEVICE_SIM} is set (CI sets it): then its absence fails them.
 */
public final class DeviceSim {
    private DeviceSim() {
    }

    /** The tools/device-sim folder of this checkout. */
    public static Path folder() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("tools/device-sim"))) {
                return p.resolve("tools/device-sim");
            }
        }
        throw new IllegalStateException("no tools/device-sim above " + here);
    }

    /** The {@code exec:} address of a simulated device; skips the test when it is not installed. */
    public static String address() {
        Path dir = folder();
        Path node = dir.resolve("node_modules/.bin/node");
        boolean installed = Files.isExecutable(node)
                && Files.isDirectory(dir.resolve("node_modules/@micropython/micropython-webassembly-pyscript"));
        if (!installed && System.getenv("TETHER_REQUIRE_DEVICE_SIM") != null) {
            throw new AssertionError("the simulated device is not installed: run npm ci in " + dir);
        }
        assumeTrue(installed, "the simulated device is not installed (npm ci in " + dir + ")");
        return "exec:" + dir.resolve("sim");
    }
}
