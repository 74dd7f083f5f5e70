package io.tether.runtime.python;

import io.tether.runtime.sandbox.ScriptDirectory;
import java.nio.file.Path;

/** The worker program, {@code worker.py}, by path (see {@link ScriptDirectory}). */
final class WorkerScript {
    private WorkerScript() {
    }

    /** The extracted script; extracts it on first use. Thread-safe. */
    static Path path() {
        return ScriptDirectory.get().resolve("worker.py");
    }
}
