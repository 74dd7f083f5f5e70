package io.tether.session;

import io.tether.resource.ResourceTracker;
import java.time.Duration;

/**
 * The manager's in-memory record of one active session: its latest snapshot and, once
 * something is registered, its resource tracker.
 *
 * <p>Kept small on purpose (an idle plain session should cost well under a kilobyte):
 * the tracker is created on first use. Transitions synchronize on this object; reads of
 * {@link #snapshot} need no lock.
 */
final class LiveSession {
    volatile Session snapshot;
    /** The session's worker, or {@code null} for a plain session. */
    final LiveWorker worker;
    private ResourceTracker tracker;

    LiveSession(Session snapshot) {
        this(snapshot, null);
    }

    LiveSession(Session snapshot, LiveWorker worker) {
        this.snapshot = snapshot;
        this.worker = worker;
    }

    /** Whether an execution is running (then the session never expires for idleness). */
    boolean busy() {
        return worker != null && worker.busy();
    }

    synchronized ResourceTracker tracker(Duration cleanupTimeout, ResourceTracker.RegistrationListener listener) {
        if (tracker == null) {
            tracker = new ResourceTracker("session " + snapshot.id(), cleanupTimeout, listener);
        }
        return tracker;
    }

    /** The tracker if one was ever created, else {@code null}. */
    synchronized ResourceTracker trackerIfAny() {
        return tracker;
    }
}
