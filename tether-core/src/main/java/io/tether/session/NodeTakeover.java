package io.tether.session;

/**
 * What taking over a lost node's sessions did ({@link SessionManager#takeOverNode}).
 *
 * @param ended   sessions with a worker, ended {@code error} / {@code node_lost}
 * @param adopted plain sessions, now held by this node
 */
public record NodeTakeover(int ended, int adopted) {
}
