package io.tether.server.mcp;

/** A tool call that cannot be done as asked: answered as a tool result with {@code isError: true}. */
final class ToolError extends RuntimeException {
    ToolError(String message) {
        super(message, null, false, false);
    }
}
