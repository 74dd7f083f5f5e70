package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The manager's state machine (INACTIVE → ACTIVE → SHUTTING_DOWN → CLOSED) and the count of
 * operations in flight, so that close can refuse new work and then wait for what already
 * started.
 *
 * <p>Why no lock: {@link #enter} counts itself in before it reads the state, and
 * {@link #beginClose} writes the state before close reads the count; both are volatile, so
 * an operation that saw ACTIVE is always seen by {@link #awaitQuiescence}.
 */
final class ManagerGate {
    private final AtomicReference<ManagerState> state = new AtomicReference<>(ManagerState.INACTIVE);
    private final LongAdder inFlight = new LongAdder();
    private final CountDownLatch closed = new CountDownLatch(1);

    ManagerState state() {
        return state.get();
    }

    /** @throws IllegalStateException unless the manager is INACTIVE */
    void start() {
        if (!state.compareAndSet(ManagerState.INACTIVE, ManagerState.ACTIVE)) {
            throw new IllegalStateException("session manager already started (state " + state.get() + ")");
        }
    }

    /**
     * Moves to SHUTTING_DOWN.
     *
     * @return {@code true} when this caller must carry out the close; {@code false} once
     *     another caller's close has finished
     */
    boolean beginClose() {
        ManagerState was = state.getAndUpdate(s -> s == ManagerState.ACTIVE || s == ManagerState.INACTIVE
                ? ManagerState.SHUTTING_DOWN : s);
        if (was == ManagerState.ACTIVE || was == ManagerState.INACTIVE) {
            return true;
        }
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    void closed() {
        state.set(ManagerState.CLOSED);
        closed.countDown();
    }

    /** Marks an operation in flight; refuses it unless the manager is ACTIVE. */
    void enter() {
        inFlight.increment();
        ManagerState s = state.get();
        if (s != ManagerState.ACTIVE) {
            inFlight.decrement();
            throw new TetherException(ErrorCode.SHUTTING_DOWN, switch (s) {
                case INACTIVE -> "session manager not started; call start() first";
                case SHUTTING_DOWN -> "session manager is shutting down; no new work is accepted";
                default -> "session manager is closed";
            });
        }
    }

    void exit() {
        inFlight.decrement();
    }

    /** Waits until no operation is in flight or the deadline ({@link System#nanoTime}) passes. */
    boolean awaitQuiescence(long deadlineNanos) {
        while (inFlight.sum() != 0) {
            if (System.nanoTime() - deadlineNanos >= 0) {
                return false;
            }
            LockSupport.parkNanos(100_000);
        }
        return true;
    }
}
