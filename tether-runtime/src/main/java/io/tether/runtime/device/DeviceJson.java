package io.tether.runtime.device;

import java.lang.reflect.Array;
import java.util.Collection;
import java.util.Map;

/** Writes task arguments as JSON and JSON as a Python string literal, for code sent to a device. */
final class DeviceJson {
    private DeviceJson() {
    }

    /**
     * {@code value} as JSON: {@code null}, booleans, numbers, strings, collections and arrays,
     * maps with string keys.
     *
     * @throws IllegalArgumentException for anything else, or a number that is not finite
     */
    static String write(Object value) {
        StringBuilder s = new StringBuilder();
        write(value, s, 0);
        return s.toString();
    }

    private static void write(Object v, StringBuilder s, int depth) {
        if (depth > 100) {
            throw new IllegalArgumentException("task arguments nest deeper than 100");
        }
        if (v == null) {
            s.append("null");
        } else if (v instanceof Boolean b) {
            s.append(b);
        } else if (v instanceof Double d && !Double.isFinite(d) || v instanceof Float f && !Float.isFinite(f)) {
            throw new IllegalArgumentException("JSON has no " + v);
        } else if (v instanceof Number n) {
            s.append(n);
        } else if (v instanceof CharSequence || v instanceof Character) {
            quote(v.toString(), s);
        } else if (v instanceof Map<?, ?> m) {
            s.append('{');
            String sep = "";
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    throw new IllegalArgumentException("JSON object keys are strings, got " + e.getKey());
                }
                s.append(sep);
                quote(k, s);
                s.append(':');
                write(e.getValue(), s, depth + 1);
                sep = ",";
            }
            s.append('}');
        } else if (v instanceof Collection<?> c) {
            s.append('[');
            String sep = "";
            for (Object o : c) {
                s.append(sep);
                write(o, s, depth + 1);
                sep = ",";
            }
            s.append(']');
        } else if (v.getClass().isArray()) {
            s.append('[');
            for (int i = 0; i < Array.getLength(v); i++) {
                s.append(i == 0 ? "" : ",");
                write(Array.get(v, i), s, depth + 1);
            }
            s.append(']');
        } else {
            throw new IllegalArgumentException("not JSON-serialisable: " + v.getClass().getName());
        }
    }

    private static void quote(String text, StringBuilder s) {
        s.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        s.append('"');
    }

    /** {@code text} as a single-quoted Python string literal of printable ASCII. */
    static String pyString(String text) {
        StringBuilder s = new StringBuilder("'");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\'' -> s.append("\\'");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.append('\'').toString();
    }
}
