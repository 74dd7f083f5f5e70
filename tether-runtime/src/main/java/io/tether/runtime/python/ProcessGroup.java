package io.tether.runtime.python;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * Kills what a worker left behind. The worker makes itself the leader of its own process
 * group, so everything user code starts (subprocess, os.system, fork) is in that group
 * unless it moved itself out (setsid, setpgid); after the worker died its children are
 * re-parented and {@link ProcessHandle#descendants()} no longer finds them, but their
 * process group still names the worker.
 *
 * <p>Linux only: the group is read from {@code /proc/<pid>/stat}; without {@code /proc}
 * only the descendants snapshot is killed.
 */
final class ProcessGroup {
    private static final Path PROC = Path.of("/proc");

    private ProcessGroup() {
    }

    /**
     * Kills {@code snapshot} (descendants taken while the leader lived) and every process
     * whose group is {@code leaderPid} and that started at or after {@code since} (so a
     * recycled pid never takes an unrelated process with it). Best effort; never throws.
     */
    static void kill(long leaderPid, Instant since, List<ProcessHandle> snapshot) {
        snapshot.forEach(ProcessHandle::destroyForcibly);
        if (!Files.isDirectory(PROC)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, ProcessGroup::isPidDirectory)) {
            for (Path dir : dirs) {
                long pid = Long.parseLong(dir.getFileName().toString());
                if (pid != leaderPid && groupOf(dir) == leaderPid) {
                    ProcessHandle.of(pid)
                            .filter(h -> h.info().startInstant().map(s -> !s.isBefore(since)).orElse(true))
                            .ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        } catch (IOException | RuntimeException e) {
            // The listing raced with exiting processes or /proc is unreadable: nothing more to do.
        }
    }

    private static boolean isPidDirectory(Path p) {
        String name = p.getFileName().toString();
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return !name.isEmpty();
    }

    /** Field 5 of /proc/pid/stat; the command name (field 2) may contain spaces and ')'. */
    private static long groupOf(Path dir) {
        try {
            String stat = new String(Files.readAllBytes(dir.resolve("stat")), StandardCharsets.ISO_8859_1);
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 4);
            return Long.parseLong(fields[2]);
        } catch (IOException | RuntimeException e) {
            return -1; // exited while we looked
        }
    }
}
