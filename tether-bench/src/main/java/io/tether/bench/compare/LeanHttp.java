package io.tether.bench.compare;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The leanest HTTP/1.1 client for a round trip: one kept-alive connection on a plain
 * {@link Socket} (TCP_NODELAY), a request written as bytes, and the answer read back as
 * its status line, its headers (only {@code Content-Length} and {@code Connection} are
 * looked at) and a body of that length. No pooling, no redirects, no chunked bodies (the
 * server sends a length with every JSON answer; one without is an error here). A request
 * is never sent twice: a connection the server closed is an error (after a long pause, call
 * {@link #reconnect}); one the server says it will close ({@code Connection: close}) is
 * replaced before the next request.
 *
 * <p>Not thread-safe: one connection, one caller.
 */
final class LeanHttp implements AutoCloseable {
    private static final int TIMEOUT_MS = 60_000;
    private static final int MAX_HEADER = 16 * 1024;

    private final String host;
    private final int port;
    /** The header lines every request carries: Host and Authorization. */
    private final byte[] fixedHeaders;
    private Socket socket;
    private OutputStream out;
    private InputStream in;
    private final byte[] line = new byte[MAX_HEADER];

    /** @param authorization the whole {@code Authorization} header value, or {@code null} */
    LeanHttp(String baseUrl, String authorization) {
        URI uri = URI.create(baseUrl);
        this.host = uri.getHost();
        this.port = uri.getPort();
        this.fixedHeaders = ("Host: " + host + ":" + port + "\r\n"
                + (authorization == null ? "" : "Authorization: " + authorization + "\r\n"))
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** A response: its status and body. */
    record Answer(int status, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        Answer expect(int wanted, String what) {
            if (status != wanted) {
                throw new IllegalStateException(what + ": HTTP " + status + " " + text());
            }
            return this;
        }
    }

    Answer post(String path, byte[] json) throws IOException {
        return send("POST", path, json);
    }

    Answer delete(String path) throws IOException {
        return send("DELETE", path, null);
    }

    /** Sends one request on the kept-alive connection (a new one when there is none) and reads its answer. */
    Answer send(String method, String path, byte[] body) throws IOException {
        byte[] request = request(method, path, body);
        if (socket == null) {
            connect();
        }
        try {
            return exchange(request);
        } catch (IOException e) {
            close(); // the connection's state is unknown now
            throw e;
        }
    }

    /** A new connection for the next request (after a pause longer than the server keeps one idle). */
    void reconnect() {
        close();
    }

    private byte[] request(String method, String path, byte[] body) {
        String head = method + " " + path + " HTTP/1.1\r\n";
        String length = body == null ? "Content-Length: 0\r\n\r\n"
                : "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] l = length.getBytes(StandardCharsets.US_ASCII);
        int n = body == null ? 0 : body.length;
        byte[] all = new byte[h.length + fixedHeaders.length + l.length + n];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(fixedHeaders, 0, all, h.length, fixedHeaders.length);
        System.arraycopy(l, 0, all, h.length + fixedHeaders.length, l.length);
        if (n > 0) {
            System.arraycopy(body, 0, all, h.length + fixedHeaders.length + l.length, n);
        }
        return all;
    }

    private void connect() throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(TIMEOUT_MS);
        s.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
        socket = s;
        out = s.getOutputStream();
        in = new BufferedInputStream(s.getInputStream(), 8192);
    }

    private Answer exchange(byte[] request) throws IOException {
        out.write(request);
        out.flush();
        int status = status(readLine());
        int length = -1;
        boolean close = false;
        while (true) {
            int n = readLineInto();
            if (n == 0) {
                break;
            }
            String header = new String(line, 0, n, StandardCharsets.US_ASCII);
            int colon = header.indexOf(':');
            if (colon < 0) {
                throw new IOException("malformed header line: " + header);
            }
            String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = header.substring(colon + 1).trim();
            if (name.equals("content-length")) {
                length = Integer.parseInt(value);
            } else if (name.equals("connection") && value.equalsIgnoreCase("close")) {
                close = true;
            } else if (name.equals("transfer-encoding")) {
                throw new IOException("a " + value + " body: this client reads Content-Length bodies only");
            }
        }
        if (length < 0) {
            throw new IOException("HTTP " + status + " without Content-Length");
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new EOFException("the body ended after " + body.length + " of " + length + " bytes");
        }
        if (close) {
            close();
        }
        return new Answer(status, body);
    }

    private String readLine() throws IOException {
        int n = readLineInto();
        return new String(line, 0, n, StandardCharsets.US_ASCII);
    }

    /** Reads a line up to CRLF into {@link #line}; returns its length without the CRLF. */
    private int readLineInto() throws IOException {
        int n = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("the connection ended" + (n == 0 ? "" : " within a line"));
            }
            if (b == '\n') {
                return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
            }
            if (n == line.length) {
                throw new IOException("a header line longer than " + MAX_HEADER + " bytes");
            }
            line[n++] = (byte) b;
        }
    }

    /** The code of a status line {@code HTTP/1.1 200 OK}. */
    static int status(String statusLine) throws IOException {
        if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12 || statusLine.charAt(8) != ' ') {
            throw new IOException("not an HTTP/1.x status line: " + statusLine);
        }
        try {
            return Integer.parseInt(statusLine.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP/1.x status line: " + statusLine, e);
        }
    }

    /** Whether {@code text} occurs in {@code body} (UTF-8 bytes, no decoding). */
    static boolean contains(byte[] body, byte[] text) {
        outer:
        for (int i = 0; i + text.length <= body.length; i++) {
            for (int j = 0; j < text.length; j++) {
                if (body[i + j] != text[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
            socket = null;
        }
    }
}
