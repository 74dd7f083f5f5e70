package io.tether.runtime.python;

import java.nio.file.Path;

/** For tests outside this package: where a runtime's fork server is. */
public final class ForkServers {
    private ForkServers() {
    }

    /** The pid of {@code runtime}'s live fork server (on the host), or -1. */
    public static long pid(PythonRuntime runtime) {
        return runtime.forkServerPid();
    }

    /** The Unix socket {@code runtime}'s live fork server listens on, or null. */
    public static Path socket(PythonRuntime runtime) {
        return runtime.forkServerSocket();
    }
}
