package io.tether.runtime.sandbox;

import java.nio.file.Path;
import java.util.Set;

/**
 * One cgroup hierarchy as this process sees it: the directory of the cgroup the JVM is in
 * ({@code ownDir}) and the controllers it offers there. For cgroup v2 those are the
 * controllers listed in {@code ownDir/cgroup.controllers} (the ones its children may
 * enable); for v1 the controllers the hierarchy was mounted with.
 */
record Hierarchy(Path ownDir, Set<String> controllers, boolean unified) {
    Hierarchy {
        controllers = Set.copyOf(controllers);
    }

    boolean offers(String controller) {
        return controllers.contains(controller);
    }

    Hierarchy withControllers(Set<String> available) {
        return new Hierarchy(ownDir, available, unified);
    }

    @Override
    public String toString() {
        return (unified ? "v2 " : "v1 ") + controllers + " at " + ownDir;
    }
}
