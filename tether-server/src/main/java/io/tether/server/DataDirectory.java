package io.tether.server;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The modes of the data directory and the secrets in it (the admin token, the token hashes,
 * every owner's sessions and code in the store), made private at start.
 *
 * <p>A directory Tether creates is {@code 0700}; when Tether runs as root with the sandbox
 * it is {@code 0711} instead, because the jail's user (uid 65534) must pass through it to
 * reach {@code work/}: it can then open a path it knows but list nothing. An existing
 * directory is left as the operator made it, except that it gets {@code o+x} where the jail
 * needs to pass; one others can read or write into is warned about. The secret files are
 * {@code 0600}: a wider one (from an older Tether, or copied in) is closed and warned about.
 */
final class DataDirectory {
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OPEN_TO_OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private DataDirectory() {
    }

    /**
     * Creates {@code dir} (private) or checks it, and closes its secret files; returns the
     * warnings for the start banner.
     *
     * @param jailMustPass whether the sandbox's jail user must pass through {@code dir}
     * @param secrets the files to keep owner-only (those missing are skipped)
     * @throws IllegalArgumentException when the directory cannot be created or its modes set
     */
    static List<String> prepare(Path dir, boolean jailMustPass, List<Path> secrets) {
        List<String> warnings = new ArrayList<>();
        try {
            if (!posix(dir)) {
                Files.createDirectories(dir);
                return warnings;
            }
            Set<PosixFilePermission> wanted = PosixFilePermissions.fromString(jailMustPass ? "rwx--x--x" : "rwx------");
            if (!Files.isDirectory(dir)) {
                createPrivate(dir, wanted);
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            if (jailMustPass && !mode.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                mode.add(PosixFilePermission.OTHERS_EXECUTE);
                Files.setPosixFilePermissions(dir, mode);
            }
            if (mode.stream().anyMatch(OPEN_TO_OTHERS::contains)) {
                warnings.add("WARNING: the data directory " + dir + " is " + PosixFilePermissions.toString(mode)
                        + ": other users can list or change it; make it " + PosixFilePermissions.toString(wanted)
                        + " (chmod " + (jailMustPass ? "711" : "700") + " " + dir + ")");
            }
            for (Path secret : secrets) {
                closeSecret(secret, warnings);
            }
            return warnings;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot prepare the data directory " + dir + ": " + e, e);
        }
    }

    private static boolean posix(Path dir) {
        return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** Creates the parents as usual, {@code dir} itself with exactly {@code mode} (whatever the umask). */
    private static void createPrivate(Path dir, Set<PosixFilePermission> mode) throws IOException {
        if (dir.getParent() != null) {
            Files.createDirectories(dir.getParent());
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
            return; // another process made it meanwhile: checked as an existing one
        }
        Files.setPosixFilePermissions(dir, mode);
    }

    private static void closeSecret(Path file, List<String> warnings) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
        if (!OWNER_ONLY_FILE.containsAll(mode)) {
            Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
            warnings.add("WARNING: " + file + " was " + PosixFilePermissions.toString(mode)
                    + "; made it rw------- (owner only)");
        }
    }
}
