package io.tether.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Directories for tests whose files a sandbox's unprivileged user must reach (a work root,
 * a data directory), outside {@code /tmp}: a jail mounts a fresh {@code /tmp}, which would
 * hide what is there whatever else the sandbox does, so a test of its other layers would
 * pass for the wrong reason.
 */
public final class OpenDirectories {
    private OpenDirectories() {
    }

    /**
     * A new directory (mode 0755) under the module's {@code target/} when every directory on
     * the way lets others pass, else under {@code /var/tmp}. The caller deletes it.
     */
    public static Path create(String prefix) {
        try {
            Path target = Files.createDirectories(Path.of("target").toAbsolutePath());
            // A checkout under /tmp (a fresh clone there) would put them in the jail's hidden /tmp too.
            boolean underTmp = target.startsWith(Path.of("/tmp"));
            Path parent = passable(target) && !underTmp ? target : Path.of("/var/tmp");
            Path dir = Files.createTempDirectory(parent, prefix);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean passable(Path dir) throws IOException {
        for (Path p = dir; p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                return false;
            }
        }
        return true;
    }
}
