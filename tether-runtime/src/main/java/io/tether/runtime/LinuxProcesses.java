package io.tether.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** What {@code /proc} says about a process, where {@link ProcessHandle} cannot tell. */
public final class LinuxProcesses {
    private LinuxProcesses() {
    }

    /**
     * Whether {@code pid} has stopped running: gone, or a zombie its parent has not reaped
     * yet. {@link Process#isAlive} and {@link ProcessHandle#isAlive} still count a zombie as
     * alive until the JDK's reaper thread has waited for it.
     */
    public static boolean hasExited(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException | RuntimeException e) {
            return true; // exited while we looked
        }
    }
}
