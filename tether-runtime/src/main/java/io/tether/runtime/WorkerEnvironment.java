package io.tether.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The environment-variable allow-list a runtime's workers get beyond their defaults: none
 * of the JVM's own environment (the operator's tokens, credentials, host layout) unless
 * named here. Shared by the Python and JShell runtimes so both read it alike.
 */
public final class WorkerEnvironment {
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private WorkerEnvironment() {
    }

    /**
     * The variables {@code entries} name: {@code NAME} passes the JVM's value of that
     * variable (when it has one), {@code NAME=value} sets it.
     *
     * @throws IllegalArgumentException when a name is not a valid variable name
     *     ({@code [A-Za-z_][A-Za-z0-9_]*})
     */
    public static Map<String, String> of(List<String> entries) {
        Objects.requireNonNull(entries, "entries");
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : entries) {
            Objects.requireNonNull(entry, "workerEnvironment entry");
            int eq = entry.indexOf('=');
            String name = eq < 0 ? entry : entry.substring(0, eq);
            if (!VARIABLE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("workerEnvironment entries are NAME or NAME=value with a name of"
                        + " letters, digits and _ not starting with a digit, not '" + entry + "'");
            }
            String value = eq < 0 ? System.getenv(name) : entry.substring(eq + 1);
            if (value != null) {
                env.put(name, value);
            }
        }
        return env;
    }
}
