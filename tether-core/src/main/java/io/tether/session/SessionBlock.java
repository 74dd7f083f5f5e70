package io.tether.session;

/**
 * Work to run inside a session with {@link SessionManager#withSession}.
 *
 * @param <T> what the block returns
 * @param <X> what the block may throw
 */
@FunctionalInterface
public interface SessionBlock<T, X extends Exception> {
    T run(Session session) throws X;
}
