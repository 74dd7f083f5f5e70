package io.tether.session;

import io.tether.resource.ResourceTracker;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The manager's in-memory record of one active session: its latest snapshot and, once
 * something is registered, its resource tracker.
 *
 * <p>Kept small on purpose (an idle plain session should cost well under a kilobyte):
 * the tracker is created on first use. Transitions hold {@link #lock}; reads of
 * {@link #snapshot} need no lock.
 */
final class LiveSession {
    /**
     * Held by every transition, including its store write. A lock and not a monitor: the
     * write blocks on the disk, and on JDK 21 a virtual thread blocked inside
     * {@code synchronized} keeps its carrier thread, where one blocked on this lock lets it go.
     */
    final ReentrantLock lock = new ReentrantLock();
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
