package io.tether.server.http;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.server.auth.Principal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Fields;

/**
 * One request and its response, with blocking helpers: handlers run on virtual threads,
 * so reading the body and writing the answer simply block.
 */
final class Exchange {
    final Request request;
    final Response response;
    final List<String> path;
    final String method;
    Principal principal;
    /** The matched route's template (e.g. {@code /v1/sessions/{id}}), for metrics and the access log. */
    String route = "unmatched";
    /** The matched route's path variables. */
    Map<String, List<String>> vars = Map.of();
    private Fields query;

    Exchange(Request request, Response response, List<String> path) {
        this.request = request;
        this.response = response;
        this.path = path;
        this.method = request.getMethod();
    }

    /** A one-segment path variable of the matched route. */
    String var(String name) {
        return vars.get(name).get(0);
    }

    String header(String name) {
        return request.getHeaders().get(name);
    }

    boolean accepts(String mediaType) {
        String accept = header(HttpHeader.ACCEPT.asString());
        return accept != null && accept.contains(mediaType);
    }

    /** A query parameter, or {@code null}. */
    String query(String name) {
        if (query == null) {
            try {
                query = Request.extractQueryParameters(request);
            } catch (RuntimeException e) {
                throw TetherException.invalid("the query string is malformed: " + e.getMessage());
            }
        }
        return query.getValue(name);
    }

    /**
     * The body as bytes, at most {@code limit} of them.
     *
     * @throws TetherException {@code payload_too_large} past the limit
     */
    byte[] body(long limit) {
        long declared = request.getLength();
        if (declared > limit) {
            throw tooLarge(limit);
        }
        try (InputStream in = Content.Source.asInputStream(request)) {
            if (declared >= 0) {
                // Content-Length framing: exactly that many bytes, read into an array of that
                // size (readNBytes(limit) starts with a 16 KB buffer and copies: most of the
                // garbage an execute request made, and so most of the collector's pauses).
                byte[] bytes = new byte[(int) declared];
                if (in.readNBytes(bytes, 0, bytes.length) < bytes.length) {
                    throw TetherException.invalid("the request body ended before its Content-Length ("
                            + declared + " bytes)");
                }
                return bytes;
            }
            byte[] bytes = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
            if (bytes.length > limit) {
                throw tooLarge(limit);
            }
            return bytes;
        } catch (IOException e) {
            throw TetherException.invalid("could not read the request body: " + e.getMessage());
        }
    }

    private static TetherException tooLarge(long limit) {
        return new TetherException(ErrorCode.PAYLOAD_TOO_LARGE, "the request body is larger than " + limit
                + " bytes (setting max_body_bytes)");
    }

    /** The body as a JSON object; an empty body is an empty object. */
    JsonBody json(long limit) {
        return JsonBody.parse(body(limit));
    }

    void send(int status, Object json) {
        send(status, Wire.JSON_TYPE, Wire.bytes(json));
    }

    void send(int status, String contentType, byte[] body) {
        status(status);
        if (contentType != null) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        }
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        write(true, body);
    }

    void sendEmpty(int status) {
        status(status);
        write(true, new byte[0]);
    }

    /**
     * Sets the status of a whole answer. A request whose body was not read to its end (refused
     * before or while reading it) is answered with {@code Connection: close}: the server will
     * close the connection rather than read the rest, and a client told so does not send its
     * next request down a connection about to close (which fails a request it cannot retry).
     */
    private void status(int status) {
        response.setStatus(status);
        if (!bodyReadToEnd()) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
    }

    /** Drops what has arrived of the request's body; true if that reached its end. */
    private boolean bodyReadToEnd() {
        while (true) {
            Content.Chunk chunk = request.read();
            if (chunk == null || Content.Chunk.isFailure(chunk)) {
                return false;
            }
            boolean last = chunk.isLast();
            chunk.release();
            if (last) {
                return true;
            }
        }
    }

    void write(boolean last, byte[] bytes) {
        try {
            Content.Sink.write(response, last, ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    void write(boolean last, String text) {
        write(last, text.getBytes(StandardCharsets.UTF_8));
    }

    /** The client went away while we were writing to it. */
    static final class ClientGone extends RuntimeException {
        ClientGone(IOException cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }
}
