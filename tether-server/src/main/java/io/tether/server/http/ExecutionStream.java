package io.tether.server.http;

import io.tether.runtime.ExecutionResult;
import io.tether.runtime.Output;
import io.tether.runtime.OutputListener;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An execution answered as server-sent events: {@code start}, then {@code stdout},
 * {@code stderr} and {@code display} (a MIME bundle the code displayed) in the order the
 * code produced them, then {@code result} (a value), {@code error} (an
 * exception) and always {@code end} (the whole execution). Comments keep an idle stream
 * alive for proxies.
 *
 * <p>The worker's thread only queues events; a virtual thread writes them, so a slow or
 * vanished client never holds up the interpreter. A client that goes away changes nothing
 * for the execution: it runs to its end and stays fetchable by number.
 */
final class ExecutionStream implements OutputListener {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutionStream.class);
    private static final String DONE = new String("done");

    private final Exchange x;
    private final String sessionId;
    private final long keepaliveNanos;
    private final LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
    private Thread writer;
    private volatile boolean gone;

    ExecutionStream(Exchange x, String sessionId, Duration keepalive) {
        this.x = x;
        this.sessionId = sessionId;
        this.keepaliveNanos = keepalive.toNanos();
    }

    @Override
    public void started(long number) {
        x.response.setStatus(200);
        x.response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        x.response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        x.response.getHeaders().put("X-Accel-Buffering", "no");
        x.response.getHeaders().put(Routes.EXECUTION_HEADER, Long.toString(number));
        Map<String, Object> start = new LinkedHashMap<>();
        start.put("session_id", sessionId);
        start.put("number", number);
        events.add(event("start", start));
        writer = Thread.ofVirtual().name("tether-sse-" + sessionId + "-" + number).start(this::write);
    }

    @Override
    public void output(Stream stream, String text) {
        if (!gone) {
            events.add(event(stream == Stream.STDOUT ? "stdout" : "stderr", Map.of("text", text)));
        }
    }

    @Override
    public void display(Output.DisplayData output) {
        if (!gone) {
            events.add(event("display", Wire.display(output)));
        }
    }

    /** Streams accept input: {@code POST /v1/sessions/{id}/input} answers. */
    @Override
    public boolean acceptsInput() {
        return true;
    }

    @Override
    public void inputRequested(String prompt, boolean password) {
        if (!gone) {
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("prompt", prompt);
            request.put("password", password);
            events.add(event("input_request", request));
        }
    }

    /** Sends the outcome and ends the stream; returns once it is written or the client is gone. */
    void finish(ExecutionResult r) {
        if (!r.result().isEmpty()) {
            events.add(event("result", r.result()));
        }
        if (r.error() != null) {
            events.add(event("error", Wire.error(r.error())));
        }
        events.add(event("end", Wire.result(sessionId, r)));
        events.add(DONE);
        join();
    }

    /** The execution failed before it started or did not produce a result: stop writing. */
    void abandon() {
        events.add(DONE);
        join();
    }

    private void join() {
        if (writer == null) {
            return;
        }
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void write() {
        try {
            while (true) {
                String e = events.poll(keepaliveNanos, TimeUnit.NANOSECONDS);
                if (e == null) {
                    x.write(false, ": keep-alive\n\n");
                } else if (e == DONE) {
                    x.write(true, new byte[0]);
                    return;
                } else {
                    StringBuilder batch = new StringBuilder(e);
                    String more;
                    while ((more = events.peek()) != null && more != DONE && batch.length() < 64 * 1024) {
                        batch.append(events.poll());
                    }
                    x.write(false, batch.toString());
                }
            }
        } catch (Exchange.ClientGone e) {
            gone = true;
            events.clear();
            LOG.debug("event stream of session {} lost its client; the execution goes on", sessionId);
        } catch (InterruptedException e) {
            gone = true;
        }
    }

    /** One server-sent event: a name and one line of JSON (no CR or LF inside, which would end it). */
    static String event(String name, Object data) {
        return "event: " + name + "\ndata: " + new String(Wire.bytes(data), java.nio.charset.StandardCharsets.UTF_8)
                + "\n\n";
    }
}
