package io.tether.runtime.jshell;

import java.util.Set;

/**
 * Turns JShell's printed values back into JSON-ready text: JShell prints a {@code String}
 * as a Java literal ({@code "a\tb\001"}), so the string itself is recovered by undoing the
 * escapes. Used inside the agent.
 */
final class JavaLiterals {
    private JavaLiterals() {
    }

    private static final Set<String> INTEGRAL = Set.of("byte", "short", "int", "long", "Byte", "Short", "Integer",
            "Long", "java.lang.Byte", "java.lang.Short", "java.lang.Integer", "java.lang.Long");
    private static final Set<String> FLOATING = Set.of("float", "double", "Float", "Double", "java.lang.Float",
            "java.lang.Double");
    private static final Set<String> BOOLEAN = Set.of("boolean", "Boolean", "java.lang.Boolean");
    private static final Set<String> TEXT = Set.of("String", "java.lang.String", "char", "Character",
            "java.lang.Character");

    /** The JSON kind of a value of {@code type} printed as {@code text}; NONE when it has none. */
    static Wire.JsonKind jsonKind(String type, String text) {
        if (text == null || type == null) {
            return Wire.JsonKind.NONE;
        }
        if (INTEGRAL.contains(type) && !text.equals("null")) {
            return Wire.JsonKind.NUMBER;
        }
        if (FLOATING.contains(type) && !text.equals("null") && !text.equals("NaN") && !text.contains("Infinity")) {
            return Wire.JsonKind.NUMBER;
        }
        if (BOOLEAN.contains(type) && !text.equals("null")) {
            return Wire.JsonKind.BOOLEAN;
        }
        if (TEXT.contains(type) && text.length() >= 2 && (text.startsWith("\"") || text.startsWith("'"))) {
            return Wire.JsonKind.STRING;
        }
        return Wire.JsonKind.NONE;
    }

    /**
     * The content of a Java string or char literal ({@code "…"} or {@code '…'}): standard
     * escapes, octal escapes and {@code \}{@code uXXXX} are undone; anything else is kept.
     */
    static String unquote(String literal) {
        String body = literal.substring(1, literal.length() - 1);
        StringBuilder out = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\' || i + 1 == body.length()) {
                out.append(c);
                continue;
            }
            char e = body.charAt(++i);
            switch (e) {
                case 'b' -> out.append('\b');
                case 't' -> out.append('\t');
                case 'n' -> out.append('\n');
                case 'f' -> out.append('\f');
                case 'r' -> out.append('\r');
                case 's' -> out.append(' ');
                case '"', '\'', '\\' -> out.append(e);
                case 'u' -> {
                    int end = i + 1;
                    while (end < body.length() && body.charAt(end) == 'u') {
                        end++;
                    }
                    if (end + 4 <= body.length() && isHex(body, end, end + 4)) {
                        out.append((char) Integer.parseInt(body, end, end + 4, 16));
                        i = end + 3;
                    } else {
                        out.append('\\').append(e);
                    }
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        // Up to three octal digits, at most \377.
                        int end = i + 1;
                        int max = e <= '3' ? i + 3 : i + 2;
                        while (end < Math.min(max, body.length()) && body.charAt(end) >= '0' && body.charAt(end) <= '7') {
                            end++;
                        }
                        out.append((char) Integer.parseInt(body, i, end, 8));
                        i = end - 1;
                    } else {
                        out.append('\\').append(e);
                    }
                }
            }
        }
        return out.toString();
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
