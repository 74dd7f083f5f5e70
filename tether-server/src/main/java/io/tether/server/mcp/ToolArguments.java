package io.tether.server.mcp;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A tool call's arguments, read with clear errors: a wrong type, a missing required
 * argument or an unknown one is a {@link ToolError} naming the argument and what it must be,
 * raised before the tool changes anything.
 */
final class ToolArguments {
    private final String tool;
    private final Map<String, Object> args;

    ToolArguments(String tool, Map<String, Object> args, Set<String> known) {
        this.tool = tool;
        this.args = args == null ? Map.of() : args;
        Set<String> unknown = new TreeSet<>(this.args.keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw new ToolError(tool + ": unknown argument" + (unknown.size() > 1 ? "s " : " ")
                    + String.join(", ", unknown) + "; it takes " + String.join(", ", new TreeSet<>(known)));
        }
    }

    /** The arguments as they came, checked against the tool's names. */
    Map<String, Object> map() {
        return args;
    }

    String requiredString(String name) {
        String s = string(name);
        if (s == null) {
            throw new ToolError(tool + ": argument " + name + " is required (a string)");
        }
        return s;
    }

    /** The string, or {@code null} when absent. */
    String string(String name) {
        Object v = args.get(name);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new ToolError(tool + ": argument " + name + " must be a string, got " + describe(v));
        }
        return s;
    }

    /** Whole seconds above zero, or {@code null} when absent. */
    Duration seconds(String name, long max) {
        Object v = args.get(name);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Number n) || n.doubleValue() <= 0 || n.doubleValue() > max) {
            throw new ToolError(tool + ": argument " + name + " must be a number of seconds above 0 and at most "
                    + max + ", got " + describe(v));
        }
        return Duration.ofMillis(Math.round(n.doubleValue() * 1000));
    }

    /** The boolean, or {@code fallback} when absent. */
    boolean bool(String name, boolean fallback) {
        Object v = args.get(name);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof Boolean b)) {
            throw new ToolError(tool + ": argument " + name + " must be true or false, got " + describe(v));
        }
        return b;
    }

    private static String describe(Object v) {
        String type = v instanceof String ? "a string" : v instanceof Number ? "a number"
                : v instanceof Boolean ? "a boolean" : v instanceof Map ? "an object"
                : v instanceof java.util.List ? "an array" : v.getClass().getSimpleName();
        String text = String.valueOf(v);
        return type + " (" + (text.length() > 40 ? text.substring(0, 40) + "…" : text) + ")";
    }
}
