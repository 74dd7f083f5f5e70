package io.tether.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads the lines of a server-sent event stream into {@link ExecutionEvent}s, for one
 * consumer that takes them with a silence timeout.
 *
 * <p>Lines are requested one at a time while fewer than {@value #HIGH_WATER} events wait,
 * so a slow consumer slows the connection instead of filling memory. Every line, a
 * keep-alive comment too, counts as a sign of life for the timeout.
 */
final class EventLines implements Flow.Subscriber<String> {
    /** Put in the queue when the body ended. */
    static final Object COMPLETE = new Object();
    /** Put in the queue when reading was cancelled, to wake the consumer. */
    static final Object CANCELLED = new Object();
    /** Returned by {@link #take} when the stream was silent too long. */
    static final Object SILENT = new Object();
    private static final int HIGH_WATER = 64;

    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Object lock = new Object();
    private Flow.Subscription subscription; // guarded by lock
    private boolean paused; // guarded by lock
    private boolean cancelled; // guarded by lock
    private volatile long lastLineNanos = System.nanoTime();

    // The parser's state: touched only by the subscriber's signals, which are serialized.
    private String eventName;
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;

    @Override
    public void onSubscribe(Flow.Subscription s) {
        synchronized (lock) {
            if (cancelled) {
                s.cancel();
                return;
            }
            subscription = s;
        }
        s.request(1);
    }

    @Override
    public void onNext(String line) {
        lastLineNanos = System.nanoTime();
        Object item;
        try {
            item = parse(line);
        } catch (RuntimeException e) {
            item = e instanceof TetherClientException t ? t
                    : Wire.unexpected("an event of the stream could not be read: " + e.getMessage(), e);
        }
        if (item != null) {
            queue.add(item);
        }
        Flow.Subscription s;
        synchronized (lock) {
            if (cancelled) {
                return;
            }
            paused = queue.size() >= HIGH_WATER;
            s = paused ? null : subscription;
        }
        if (s != null) {
            s.request(1); // outside the lock: the publisher may call onNext from within request
        }
    }

    @Override
    public void onError(Throwable t) {
        queue.add(t);
    }

    @Override
    public void onComplete() {
        queue.add(COMPLETE);
    }

    /**
     * The next item: an {@link ExecutionEvent}, a {@code Throwable} (the stream failed),
     * {@link #COMPLETE}, or {@link #SILENT} when no line came for {@code silence}.
     */
    Object take(Duration silence) throws InterruptedException {
        long limit = silence.toNanos();
        while (true) {
            long left = lastLineNanos + limit - System.nanoTime();
            Object item = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
            if (item != null) {
                resume();
                return item;
            }
            if (System.nanoTime() - lastLineNanos >= limit) {
                return SILENT;
            }
        }
    }

    /** Stops reading: the HTTP client closes the connection. Thread-safe; wakes a waiting consumer. */
    void cancel() {
        Flow.Subscription s;
        synchronized (lock) {
            if (cancelled) {
                return;
            }
            cancelled = true;
            s = subscription;
        }
        queue.add(CANCELLED);
        if (s != null) {
            s.cancel();
        }
    }

    private void resume() {
        Flow.Subscription s;
        synchronized (lock) {
            if (!paused || cancelled || queue.size() >= HIGH_WATER / 2) {
                return;
            }
            paused = false;
            s = subscription;
        }
        s.request(1);
    }

    /** One line of the stream; returns an event when the line completes one. */
    private ExecutionEvent parse(String line) {
        if (line.isEmpty()) {
            ExecutionEvent e = hasData && eventName != null ? event(eventName, data.toString()) : null;
            eventName = null;
            data.setLength(0);
            hasData = false;
            return e;
        }
        if (line.startsWith(":")) {
            return null; // a comment: the keep-alive
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "event" -> eventName = value;
            case "data" -> {
                if (hasData) {
                    data.append('\n');
                }
                data.append(value);
                hasData = true;
            }
            default -> {
                // id, retry and unknown fields mean nothing here
            }
        }
        return null;
    }

    /** An event by name; {@code null} for a name this client does not know (a newer server's). */
    private static ExecutionEvent event(String name, String json) {
        JsonNode n;
        try {
            n = Wire.MAPPER.readTree(json);
        } catch (IOException e) {
            throw Wire.unexpected("event " + name + " carries no JSON: " + json, e);
        }
        return switch (name) {
            case "start" -> new ExecutionEvent.Start(n.path("session_id").asText(), n.path("number").asLong());
            case "stdout" -> new ExecutionEvent.Stdout(n.path("text").asText());
            case "stderr" -> new ExecutionEvent.Stderr(n.path("text").asText());
            case "display" -> new ExecutionEvent.Display(Wire.display(n));
            case "result" -> new ExecutionEvent.Result(Wire.map(n));
            case "error" -> new ExecutionEvent.Error(Wire.error(n));
            case "end" -> new ExecutionEvent.End(Wire.execution(n));
            case "input_request" -> new ExecutionEvent.InputRequest(n.path("prompt").asText(),
                    n.path("password").asBoolean());
            default -> null;
        };
    }
}
