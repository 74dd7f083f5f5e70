package io.tether.client;

import java.util.Objects;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One execution's events as a {@link Flow.Publisher}: nothing is sent until a subscriber
 * subscribes; then the execution starts and its events follow the subscriber's demand. A
 * virtual thread reads the {@link ExecutionStream} and signals the subscriber, so signals
 * never overlap. One subscriber only: a second one gets {@code onError}.
 */
final class EventPublisher implements Flow.Publisher<ExecutionEvent> {
    private final Supplier<ExecutionStream> opener;
    private final AtomicBoolean subscribed = new AtomicBoolean();

    EventPublisher(Supplier<ExecutionStream> opener) {
        this.opener = opener;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ExecutionEvent> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        if (!subscribed.compareAndSet(false, true)) {
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            subscriber.onError(new IllegalStateException("this publisher runs one execution for one subscriber; "
                    + "ask the client for another publisher to run the code again"));
            return;
        }
        Delivery d = new Delivery(subscriber);
        subscriber.onSubscribe(d);
        Thread.ofVirtual().name("tether-client-events").start(d);
    }

    private final class Delivery implements Flow.Subscription, Runnable {
        private final Flow.Subscriber<? super ExecutionEvent> subscriber;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private long demand; // guarded by lock
        private boolean cancelled; // guarded by lock
        private IllegalArgumentException badRequest; // guarded by lock
        private ExecutionStream stream; // guarded by lock

        Delivery(Flow.Subscriber<? super ExecutionEvent> subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            lock.lock();
            try {
                if (n <= 0) {
                    badRequest = new IllegalArgumentException("request(" + n + "): demand must be positive (rule 3.9)");
                } else {
                    demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void cancel() {
            ExecutionStream s;
            lock.lock();
            try {
                cancelled = true;
                s = stream;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            if (s != null) {
                s.abort(); // wakes the delivery thread if it waits for the next event
            }
        }

        @Override
        public void run() {
            ExecutionStream s;
            try {
                s = opener.get();
            } catch (RuntimeException e) {
                if (!isCancelled()) {
                    subscriber.onError(e);
                }
                return;
            }
            try (s) {
                lock.lock();
                try {
                    stream = s;
                } finally {
                    lock.unlock();
                }
                deliver(s);
            }
        }

        private void deliver(ExecutionStream s) {
            while (true) {
                IllegalArgumentException bad;
                lock.lock();
                try {
                    while (demand == 0 && !cancelled && badRequest == null) {
                        changed.awaitUninterruptibly();
                    }
                    if (cancelled) {
                        return;
                    }
                    bad = badRequest;
                    if (bad == null) {
                        demand--;
                    }
                } finally {
                    lock.unlock();
                }
                if (bad != null) {
                    subscriber.onError(bad);
                    return;
                }
                ExecutionEvent e;
                try {
                    if (!s.hasNext()) {
                        subscriber.onComplete();
                        return;
                    }
                    e = s.next();
                } catch (RuntimeException failure) {
                    if (!isCancelled()) {
                        subscriber.onError(failure);
                    }
                    return;
                }
                subscriber.onNext(e);
                if (e instanceof ExecutionEvent.End) {
                    subscriber.onComplete(); // needs no demand (rule 1.6)
                    return;
                }
            }
        }

        private boolean isCancelled() {
            lock.lock();
            try {
                return cancelled;
            } finally {
                lock.unlock();
            }
        }
    }
}
