package io.tether.resource;

/**
 * A resource or task registered with a {@link ResourceTracker}.
 */
public interface TrackedResource {
    String type();

    long cost();

    /**
     * Stops tracking and closes (or cancels) it now, before its session ends. Does nothing
     * when it was already released or its tracker has closed.
     *
     * @throws Exception whatever closing it throws
     */
    void release() throws Exception;
}
