package io.tether.server.mcp;

import io.tether.TetherException;
import io.tether.session.EndReason;
import io.tether.session.SessionManager;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code execute} calls running now, by MCP session and JSON-RPC request id, so a
 * {@code notifications/cancelled} can stop the one it names: the execution is interrupted
 * at once, and if it has not stopped after a grace period (code that catches the interrupt)
 * its session is ended ({@code execution_cancelled}), which kills the interpreter and
 * whatever the code started. Thread-safe.
 */
final class McpCalls {
    private static final Logger LOG = LoggerFactory.getLogger(McpCalls.class);
    /** Why a session ended whose cancelled execution would not stop. */
    static final EndReason CANCELLED = EndReason.of("execution_cancelled");

    private final SessionManager manager;
    private final Duration killAfter;
    /** Cancellable calls, by MCP session and request id. */
    private final ConcurrentHashMap<String, Call> running = new ConcurrentHashMap<>();
    /** Every call in flight, cancellable or not, for a shutdown to wait for or interrupt. */
    private final Set<Call> inFlight = ConcurrentHashMap.newKeySet();

    /** One running execution; {@link #close} when it has ended. */
    final class Call implements AutoCloseable {
        private final String key;
        final String sessionId;
        /** Stops a call that runs on another node; {@code null} for one that runs here. */
        private final Remote remote;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile boolean cancelled;

        private Call(String key, String sessionId, Remote remote) {
            this.key = key;
            this.sessionId = sessionId;
            this.remote = remote;
        }

        boolean cancelled() {
            return cancelled;
        }

        @Override
        public void close() {
            done.countDown();
            if (key != null) {
                running.remove(key, this);
            }
            synchronized (inFlight) {
                inFlight.remove(this);
                inFlight.notifyAll();
            }
        }
    }

    /** @param killAfter how long a cancelled execution may take to stop before its session is ended */
    McpCalls(SessionManager manager, Duration killAfter) {
        this.manager = manager;
        this.killAfter = killAfter;
    }

    /**
     * Registers an execution about to run in {@code sessionId}.
     *
     * @param mcpSession the MCP session, or {@code null} for a client without one (it cannot cancel)
     * @param requestId the call's JSON-RPC id, or {@code null} when unknown (it cannot be cancelled)
     */
    Call begin(String mcpSession, String requestId, String sessionId) {
        return begin(mcpSession, requestId, sessionId, null);
    }

    /** How to stop a call that runs on another node ({@link McpRelay}). */
    interface Remote {
        /** Interrupts the session's running code on its node; throws {@link TetherException} when it cannot. */
        void interrupt();

        /** Gives the call up: its node sees the caller gone, and stops it as a cancelled call of its own. */
        void abandon();
    }

    /**
     * Registers a call that runs on another node: a cancel interrupts it there at once and,
     * if it has not ended after the grace period, abandons it (that node then ends the session
     * if its code will not stop); a shutdown interrupts it.
     */
    Call begin(String mcpSession, String requestId, String sessionId, Remote remote) {
        String key = mcpSession == null || requestId == null ? null : mcpSession + "\n" + requestId;
        Call call = new Call(key, sessionId, remote);
        inFlight.add(call);
        if (key != null) {
            running.put(key, call);
        }
        return call;
    }

    /**
     * Waits until no call is in flight, or {@code timeout} has passed.
     *
     * @return whether none is in flight
     */
    boolean awaitNone(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (inFlight) {
            try {
                long left;
                while (!inFlight.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                    inFlight.wait(Math.max(1, left / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return inFlight.isEmpty();
        }
    }

    /** Interrupts every call in flight; for a shutdown past its grace period. */
    void interruptAll() {
        for (Call call : List.copyOf(inFlight)) {
            try {
                interrupt(call);
            } catch (TetherException e) {
                // it ended meanwhile: nothing to interrupt
            }
        }
    }

    private void interrupt(Call call) {
        if (call.remote != null) {
            call.remote.interrupt();
        } else {
            manager.interrupt(call.sessionId);
        }
    }

    /** Cancels the call, if it still runs; returns at once. */
    void cancel(String mcpSession, String requestId) {
        Call call = running.get(mcpSession + "\n" + requestId);
        if (call == null || call.cancelled) {
            return;
        }
        call.cancelled = true;
        try {
            interrupt(call);
        } catch (TetherException e) {
            if (call.remote != null) {
                call.remote.abandon(); // its node could not be asked: it stops the call when it sees us gone
            }
            return; // the session ended meanwhile: nothing runs
        }
        Thread.ofVirtual().name("tether-mcp-cancel").start(() -> {
            try {
                if (call.done.await(killAfter.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
                if (call.remote != null) {
                    LOG.info("execution in session {} on another node did not stop {} after it was cancelled; "
                            + "giving the call up there", call.sessionId, killAfter);
                    call.remote.abandon();
                    return;
                }
                LOG.info("execution in session {} did not stop {} after it was cancelled; ending the session",
                        call.sessionId, killAfter);
                manager.end(call.sessionId, CANCELLED);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (TetherException e) {
                LOG.debug("could not end session {} after a cancel: {}", call.sessionId, e.toString());
            }
        });
    }
}
