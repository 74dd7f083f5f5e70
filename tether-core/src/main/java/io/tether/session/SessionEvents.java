package io.tether.session;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's listeners and how an event reaches them: each in turn on the thread that
 * made the change; one that throws is logged and counted and never stops the change or the
 * other listeners. A part of {@link LiveSessions}. Thread-safe.
 */
final class SessionEvents {
    private static final Logger log = LoggerFactory.getLogger(SessionEvents.class);

    private final List<SessionListener> listeners;
    private final SessionMetrics metrics;

    SessionEvents(List<SessionListener> listeners, SessionMetrics metrics) {
        this.listeners = new CopyOnWriteArrayList<>(listeners);
        this.metrics = metrics;
    }

    void add(SessionListener listener) {
        listeners.add(listener);
    }

    void remove(SessionListener listener) {
        listeners.remove(listener);
    }

    /** Whether anyone listens: an event nobody receives need not be made. */
    boolean heard() {
        return !listeners.isEmpty();
    }

    void emit(SessionEvent event) {
        for (SessionListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                metrics.listenerFailed();
                log.warn("session listener {} threw on {}", l, event.getClass().getSimpleName(), e);
            }
        }
    }
}
