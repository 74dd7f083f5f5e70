package io.tether.server.http;

import io.tether.ErrorCode;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own refusals as problem details: a request Jetty turns away before it reaches
 * {@link ApiHandler} (an ambiguous path such as {@code /files/%2e%2e/x}, a malformed or
 * oversized header, an unsupported HTTP version) would otherwise get Jetty's HTML error
 * page, which no client of this API can read. The status stays Jetty's; the code is the
 * nearest stable one.
 */
public final class ProblemErrorHandler extends ErrorHandler {
    /** An error Jetty found after parsing the request, e.g. an ambiguous URI. */
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = request.getAttribute(ERROR_STATUS) instanceof Integer s ? s : response.getStatus();
        if (status < 400) {
            status = 500;
        }
        byte[] body = body(status, request.getAttribute(ERROR_MESSAGE) instanceof String m ? m : null);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, Wire.PROBLEM_TYPE);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.getHeaders().put(ERROR_CACHE_CONTROL);
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
    }

    /** An error the HTTP parser found (a bad request line or header), answered before any handler runs. */
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, Wire.PROBLEM_TYPE);
        return ByteBuffer.wrap(body(status, reason));
    }

    private static byte[] body(int status, String reason) {
        String detail = "the request was refused before it reached a route"
                + (reason == null || reason.isBlank() ? "" : ": " + reason);
        return Wire.bytes(Wire.problem(status, code(status), detail));
    }

    /** The stable code nearest to a status Jetty chose. */
    static ErrorCode code(int status) {
        return switch (status) {
            case 401 -> ErrorCode.UNAUTHORIZED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404 -> ErrorCode.NOT_FOUND;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            case 429 -> ErrorCode.LIMIT_EXCEEDED;
            case 503 -> ErrorCode.SHUTTING_DOWN;
            default -> status < 500 ? ErrorCode.INVALID_REQUEST : ErrorCode.INTERNAL;
        };
    }
}
