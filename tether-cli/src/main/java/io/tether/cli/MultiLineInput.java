package io.tether.cli;

import java.util.List;

/**
 * Decides when the lines typed into {@code tether repl} make a whole input to run, the way
 * the runtime's own REPL would ask for more.
 *
 * <p>Python: more is needed while a bracket, a triple-quoted string or a backslash
 * continuation is open; an input whose first (logical) line opens a block (ends with
 * {@code :}, or is a decorator) goes on, indented, until an empty line. JShell: more is
 * needed while braces, parentheses, brackets, a text block or a comment are open.
 *
 * <p>Both scanners know strings and comments, so a {@code :} or a bracket inside them does
 * not count. They do not check syntax: an input that can never be complete (a stray closing
 * bracket) is sent, and the interpreter reports the error.
 */
abstract sealed class MultiLineInput {
    /** The rule for a runtime; JShell's for {@code jshell}, Python's for anything else. */
    static MultiLineInput forRuntime(String runtime) {
        return "jshell".equals(runtime) ? new Jshell() : new Python();
    }

    /** Whether {@code lines} (as typed, at least one) make an input to run. */
    abstract boolean complete(List<String> lines);

    /** The prompt for the first line of an input, and for the lines that continue it. */
    abstract String prompt(boolean continuation);

    static final class Python extends MultiLineInput {
        @Override
        boolean complete(List<String> lines) {
            String text = String.join("\n", lines);
            int depth = 0;
            char quote = 0;               // the quote of the string we are in, or 0
            boolean triple = false;
            boolean continued = false;    // the last line ends with a backslash
            boolean firstLine = true;     // still in the first logical line
            char first = 0;               // its first and last characters outside strings and comments
            char last = 0;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (quote != 0) {
                    if (c == '\\') {
                        i++;
                    } else if (c == quote && (!triple || text.startsWith(tripled(c), i))) {
                        i += triple ? 2 : 0;
                        quote = 0;
                    } else if (c == '\n' && !triple) {
                        quote = 0;        // an unterminated string: the interpreter will say so
                    }
                    continue;
                }
                if (c == '#') {
                    int nl = text.indexOf('\n', i);
                    i = (nl < 0 ? text.length() : nl) - 1;
                    continue;
                }
                if (c == '\n') {
                    firstLine &= depth > 0 || continued;
                    continued = false;
                    continue;
                }
                continued = c == '\\';
                if (firstLine && !Character.isWhitespace(c)) {
                    first = first == 0 ? c : first;
                    last = c;
                }
                switch (c) {
                    case '(', '[', '{' -> depth++;
                    case ')', ']', '}' -> depth--;
                    case '\'', '"' -> {
                        quote = c;
                        triple = text.startsWith(tripled(c), i);
                        i += triple ? 2 : 0;
                    }
                    default -> {
                    }
                }
            }
            if (depth > 0 || (quote != 0 && triple) || continued) {
                return false;
            }
            boolean block = last == ':' || first == '@';
            return !block || lines.get(lines.size() - 1).isBlank();
        }

        private static String tripled(char quote) {
            return String.valueOf(quote).repeat(3);
        }

        @Override
        String prompt(boolean continuation) {
            return continuation ? "... " : ">>> ";
        }
    }

    static final class Jshell extends MultiLineInput {
        @Override
        boolean complete(List<String> lines) {
            String text = String.join("\n", lines);
            int depth = 0;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '/' && text.startsWith("//", i)) {
                    int nl = text.indexOf('\n', i);
                    i = nl < 0 ? text.length() : nl;
                } else if (c == '/' && text.startsWith("/*", i)) {
                    int end = text.indexOf("*/", i + 2);
                    if (end < 0) {
                        return false;
                    }
                    i = end + 1;
                } else if (text.startsWith("\"\"\"", i)) {
                    int end = i + 3;
                    while ((end = text.indexOf("\"\"\"", end)) >= 0 && text.charAt(end - 1) == '\\') {
                        end++;
                    }
                    if (end < 0) {
                        return false;
                    }
                    i = end + 2;
                } else if (c == '"' || c == '\'') {
                    i++;
                    while (i < text.length() && text.charAt(i) != c && text.charAt(i) != '\n') {
                        i += text.charAt(i) == '\\' ? 2 : 1;
                    }
                } else if (c == '(' || c == '[' || c == '{') {
                    depth++;
                } else if (c == ')' || c == ']' || c == '}') {
                    depth--;
                }
            }
            return depth <= 0;
        }

        @Override
        String prompt(boolean continuation) {
            return continuation ? "   ...> " : "jshell> ";
        }
    }
}
