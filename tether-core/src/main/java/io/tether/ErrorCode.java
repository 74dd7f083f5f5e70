package io.tether;

/**
 * The stable, machine-readable codes of every failure Tether reports.
 *
 * <p>The {@link #code()} text is part of the public contract (it appears in HTTP problem
 * details and in logs) and never changes for an existing constant.
 */
public enum ErrorCode {
    /** The caller sent something malformed or out of range; nothing was changed. */
    INVALID_REQUEST("invalid_request"),
    /** The caller could not be authenticated. */
    UNAUTHORIZED("unauthorized"),
    /** The caller is authenticated but its token may not do this (an admin-only route). */
    FORBIDDEN("forbidden"),
    /** No session with that id exists (or it belongs to another owner). */
    SESSION_NOT_FOUND("session_not_found"),
    /**
     * Something other than a session does not exist: a route, a file in a session's
     * working directory, an execution number no longer kept.
     */
    NOT_FOUND("not_found"),
    /** The session exists but has left {@code active}; it never becomes active again. */
    SESSION_ENDED("session_ended"),
    /**
     * The session is running code, and the request needs its interpreter idle (completion,
     * inspection): retry once the execution ended.
     */
    SESSION_BUSY("session_busy"),
    /**
     * The session's execution does not wait for input: none runs, or it did not ask for any,
     * or it was answered already.
     */
    NO_INPUT_REQUESTED("no_input_requested"),
    /** A configured limit (sessions in total, per owner, pool size…) would be exceeded. */
    LIMIT_EXCEEDED("limit_exceeded"),
    /** A request body, code or output was larger than allowed. */
    PAYLOAD_TOO_LARGE("payload_too_large"),
    /**
     * The requested runtime is configured but cannot start workers right now (worth retrying).
     * A runtime that is not configured at all is {@link #INVALID_REQUEST}.
     */
    RUNTIME_UNAVAILABLE("runtime_unavailable"),
    /** The manager is not running: not started yet, shutting down or closed. */
    SHUTTING_DOWN("shutting_down"),
    /**
     * The session is live on another node of the cluster and this node cannot serve it: the
     * request was forwarded here already (one hop only), the owning node could not be
     * reached, or the endpoint (MCP) does not forward. Worth retrying through any node.
     */
    NODE_UNAVAILABLE("node_unavailable"),
    /** The persistent store failed; the operation did not take effect. */
    STORE_FAILURE("store_failure"),
    /** A bug or an unexpected condition inside Tether. */
    INTERNAL("internal");

    private final String code;

    ErrorCode(String code) {
        this.code = code;
    }

    /** The stable snake_case text of this code, e.g. {@code limit_exceeded}. */
    public String code() {
        return code;
    }
}
