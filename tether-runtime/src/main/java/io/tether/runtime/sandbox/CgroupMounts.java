package io.tether.runtime.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Finds the cgroup hierarchies this process is in and where their directories are mounted,
 * from {@code /proc/self/cgroup} (which cgroup, relative to each hierarchy's root) and
 * {@code /proc/self/mountinfo} (where each hierarchy, or a subtree of it, is mounted). Works
 * for v1, v2 and the hybrid layout, inside containers too: a mount whose root is a subtree
 * (a container without a cgroup namespace) is mapped by stripping that root from the path.
 * A hierarchy whose cgroup is not visible through any mount is left out.
 */
final class CgroupMounts {
    static final Path PROC_SELF_CGROUP = Path.of("/proc/self/cgroup");
    static final Path PROC_SELF_MOUNTINFO = Path.of("/proc/self/mountinfo");

    private CgroupMounts() {
    }

    /**
     * The hierarchies of this process; v2 ones with the controllers their
     * {@code cgroup.controllers} file lists.
     *
     * @throws IOException when {@code /proc} cannot be read
     */
    static List<Hierarchy> read() throws IOException {
        List<Hierarchy> found = parse(Files.readAllLines(PROC_SELF_MOUNTINFO), Files.readAllLines(PROC_SELF_CGROUP),
                Files::isDirectory);
        List<Hierarchy> result = new ArrayList<>(found.size());
        for (Hierarchy h : found) {
            if (h.unified()) {
                String available = Files.readString(h.ownDir().resolve("cgroup.controllers")).strip();
                h = h.withControllers(available.isEmpty() ? Set.of() : Set.of(available.split(" ")));
            }
            result.add(h);
        }
        return result;
    }

    /**
     * Pairs each line of {@code /proc/self/cgroup} with a mount it is visible through; v2
     * hierarchies come back with no controllers (see {@link #read}). Only directories
     * that {@code exists} are returned.
     */
    static List<Hierarchy> parse(List<String> mountinfo, List<String> procSelfCgroup, Predicate<Path> exists) {
        List<Mount> mounts = mountinfo.stream().map(Mount::parse).flatMap(Optional::stream).toList();
        List<Hierarchy> result = new ArrayList<>();
        for (String line : procSelfCgroup) {
            int first = line.indexOf(':');
            int second = line.indexOf(':', first + 1);
            if (first < 0 || second < 0) {
                continue;
            }
            String names = line.substring(first + 1, second);
            String path = line.substring(second + 1);
            boolean unified = names.isEmpty() && line.substring(0, first).equals("0");
            Set<String> controllers = names.isEmpty() ? Set.of() : Set.of(names.split(","));
            for (Mount mount : mounts) {
                boolean matches = unified ? mount.unified()
                        : !mount.unified() && !controllers.isEmpty() && mount.options().containsAll(controllers);
                Optional<Path> dir = matches ? mount.directoryOf(path) : Optional.empty();
                if (dir.isPresent() && exists.test(dir.get())) {
                    result.add(new Hierarchy(dir.get(), unified ? Set.of() : controllers, unified));
                    break;
                }
            }
        }
        return result;
    }

    /** A cgroup or cgroup2 line of mountinfo: what it mounts ({@code root}) and where. */
    record Mount(String root, Path mountPoint, boolean unified, Set<String> options) {
        /**
         * Fields: id, parent, major:minor, root, mount point, options, optional fields
         * ended by "-", then file system type, source, super options.
         */
        static Optional<Mount> parse(String line) {
            String[] fields = line.split(" ");
            int separator = Arrays.asList(fields).indexOf("-");
            if (separator < 5 || fields.length < separator + 4) {
                return Optional.empty();
            }
            String type = fields[separator + 1];
            if (!type.equals("cgroup") && !type.equals("cgroup2")) {
                return Optional.empty();
            }
            return Optional.of(new Mount(unescape(fields[3]), Path.of(unescape(fields[4])), type.equals("cgroup2"),
                    Set.of(fields[separator + 3].split(","))));
        }

        /** Where {@code cgroupPath} (as /proc/self/cgroup names it) appears under this mount. */
        Optional<Path> directoryOf(String cgroupPath) {
            String relative;
            if (root.equals("/")) {
                relative = cgroupPath;
            } else if (cgroupPath.equals(root)) {
                relative = "/";
            } else if (cgroupPath.startsWith(root + "/")) {
                relative = cgroupPath.substring(root.length());
            } else {
                return Optional.empty();
            }
            return Optional.of(relative.equals("/") ? mountPoint : mountPoint.resolve(relative.substring(1)));
        }

        /** mountinfo writes space, tab, newline and backslash as octal escapes such as {@code \040}. */
        static String unescape(String field) {
            if (field.indexOf('\\') < 0) {
                return field;
            }
            StringBuilder out = new StringBuilder(field.length());
            for (int i = 0; i < field.length(); i++) {
                char c = field.charAt(i);
                if (c == '\\' && i + 3 < field.length() && isOctal(field, i + 1)) {
                    out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                    i += 3;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }

        private static boolean isOctal(String s, int from) {
            for (int i = from; i < from + 3; i++) {
                if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                    return false;
                }
            }
            return true;
        }
    }
}
