package io.tether.session;

/**
 * Receives {@link SessionEvent}s.
 *
 * <p>Called synchronously on the thread that made the change, after it was stored, so keep
 * it quick and hand slow work to an executor. A listener that throws is logged and
 * counted; the manager and the other listeners carry on.
 */
@FunctionalInterface
public interface SessionListener {
    void onEvent(SessionEvent event);
}
