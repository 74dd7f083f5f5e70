package io.tether.runtime.jshell;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;

/**
 * Inside the agent: runs one block of code in the JShell, snippet by snippet, and says how
 * it ended. The block is cut into snippets the way JShell itself reads them
 * ({@link SourceCodeAnalysis#analyzeCompletion}); the first snippet that fails to compile
 * or throws ends the block. The value of the last snippet, when it is an expression, is the
 * result. Not thread-safe: one block at a time.
 */
final class SnippetRunner {
    static final String COMPILATION_ERROR = "CompilationError";
    static final String UNRESOLVED_REFERENCE = "UnresolvedReferenceException";

    private final JShell shell;

    SnippetRunner(JShell shell) {
        this.shell = shell;
    }

    /**
     * Runs {@code code}.
     *
     * @param stopped   whether a stop was asked for; checked between snippets
     * @param maxValueBytes the longest value text kept
     */
    Wire.Outcome run(String code, BooleanSupplier stopped, long maxValueBytes) {
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        String rest = code;
        String text = null;
        String type = null;
        while (!rest.isBlank()) {
            if (stopped.getAsBoolean()) {
                return interrupted();
            }
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(rest);
            String source;
            switch (info.completeness()) {
                case EMPTY -> {
                    rest = "";
                    continue;
                }
                case COMPLETE, COMPLETE_WITH_SEMI -> {
                    source = info.source();
                    rest = info.remaining();
                }
                // Incomplete or unknown input: let JShell compile it and report why it fails.
                default -> {
                    source = rest;
                    rest = "";
                }
            }
            text = null;
            type = null;
            for (SnippetEvent event : shell.eval(source)) {
                if (event.causeSnippet() != null) {
                    continue; // a dependent snippet changed status; not what this code did
                }
                Snippet snippet = event.snippet();
                if (event.status() == Snippet.Status.REJECTED) {
                    return compilationError(snippet);
                }
                if (event.exception() != null) {
                    if (stopped.getAsBoolean()) {
                        return interrupted();
                    }
                    return raised(event.exception());
                }
                if (snippet instanceof ExpressionSnippet expression) {
                    text = event.value();
                    type = expression.typeName();
                } else if (snippet instanceof VarSnippet variable
                        && snippet.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND) {
                    text = event.value();
                    type = variable.typeName();
                }
            }
        }
        if (stopped.getAsBoolean()) {
            return interrupted();
        }
        boolean truncated = false;
        if (text != null && text.length() > maxValueBytes / 3) {
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            if (utf8.length > maxValueBytes) {
                int cut = CaptureStream.completeUtf8Prefix(utf8, (int) maxValueBytes);
                text = new String(utf8, 0, cut, StandardCharsets.UTF_8);
                truncated = true;
            }
        }
        Wire.JsonKind kind = truncated ? Wire.JsonKind.NONE : JavaLiterals.jsonKind(type, text);
        String json = switch (kind) {
            case NONE -> null;
            case STRING -> JavaLiterals.unquote(text);
            case NUMBER, BOOLEAN -> text;
        };
        return new Wire.Outcome(Wire.Kind.OK, text, kind, json, null, null, List.of(), truncated);
    }

    private static Wire.Outcome interrupted() {
        return new Wire.Outcome(Wire.Kind.INTERRUPTED, null, Wire.JsonKind.NONE, null, null, null, List.of(), false);
    }

    private Wire.Outcome compilationError(Snippet snippet) {
        List<String> lines = new ArrayList<>();
        String first = null;
        String source = snippet.source();
        for (Diag diag : shell.diagnostics(snippet).toList()) {
            String message = diag.getMessage(Locale.ROOT);
            if (first == null && diag.isError()) {
                first = message.lines().findFirst().orElse(message);
            }
            lines.add((diag.isError() ? "error: " : "warning: ") + message);
            lines.addAll(pointAt(source, diag));
        }
        if (first == null) {
            first = "the snippet was rejected: " + source.strip();
        }
        return new Wire.Outcome(Wire.Kind.ERROR, null, Wire.JsonKind.NONE, null, COMPILATION_ERROR, first, lines, false);
    }

    /** The source line a diagnostic points at and a caret under the position, like javac. */
    private static List<String> pointAt(String source, Diag diag) {
        long position = diag.getPosition();
        if (position < 0 || position > source.length()) {
            return List.of();
        }
        int start = source.lastIndexOf('\n', (int) position - 1) + 1;
        int end = source.indexOf('\n', (int) position);
        String line = source.substring(start, end < 0 ? source.length() : end);
        return List.of(line, " ".repeat((int) position - start) + "^");
    }

    private Wire.Outcome raised(JShellException exception) {
        if (exception instanceof UnresolvedReferenceException unresolved) {
            Snippet snippet = unresolved.getSnippet();
            List<String> missing = shell.unresolvedDependencies((jdk.jshell.DeclarationSnippet) snippet).toList();
            String message = "cannot use " + snippet.source().strip() + " until it compiles; missing: "
                    + String.join(", ", missing);
            return new Wire.Outcome(Wire.Kind.ERROR, null, Wire.JsonKind.NONE, null, UNRESOLVED_REFERENCE, message,
                    stack(exception), false);
        }
        String name = exception instanceof EvalException eval ? eval.getExceptionClassName()
                : exception.getClass().getName();
        return new Wire.Outcome(Wire.Kind.ERROR, null, Wire.JsonKind.NONE, null, name,
                exception.getMessage() == null ? "" : exception.getMessage(), stack(exception), false);
    }

    /** The stack of the user's code, with "Caused by" sections like Java prints them. */
    private static List<String> stack(Throwable exception) {
        List<String> lines = new ArrayList<>();
        Throwable current = exception;
        for (int depth = 0; current != null && depth < 20; depth++) {
            if (depth > 0) {
                String name = current instanceof EvalException eval ? eval.getExceptionClassName()
                        : current.getClass().getName();
                lines.add("Caused by: " + name + (current.getMessage() == null ? "" : ": " + current.getMessage()));
            }
            for (StackTraceElement element : current.getStackTrace()) {
                lines.add("\tat " + element);
            }
            current = current.getCause();
        }
        return lines;
    }
}
