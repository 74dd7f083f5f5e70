package io.tether.bench.compare;

import java.io.IOException;

/**
 * A session server under test, started by the harness on loopback and driven over its own
 * protocol: Tether over HTTP, Jupyter Server over REST and kernel websockets.
 *
 * <p>One harness thread opens sessions; a {@link PeerSession} may then be driven by its
 * own thread. {@link #close} stops the server and every process it started.
 */
sealed interface Peer extends AutoCloseable permits TetherPeer, JupyterPeer {

    /** The name in results: {@code tether}, {@code jupyter-stock}, … */
    String name();

    /** The server process. */
    long serverPid();

    /** What the server stands on besides its own process (pool workers, a fork server). */
    ServerProcess process();

    /** Waits (untimed) until the server is as ready for a session start as it gets when idle. */
    void awaitIdle() throws IOException, InterruptedException;

    /** A new session (Tether) or kernel (Jupyter); its first execution may still wait for it. */
    PeerSession open() throws IOException, InterruptedException;

    /**
     * A new session driven by the leanest client the harness has for the server's protocol:
     * Tether, raw HTTP/1.1 on a plain socket; Jupyter, the JDK WebSocket client of {@link #open}.
     */
    default PeerSession openLean() throws IOException, InterruptedException {
        return open();
    }

    /** Stops the server and everything it started; fails when something survives. */
    @Override
    void close() throws InterruptedException;

    /** One live session or kernel with its own interpreter namespace. */
    interface PeerSession extends AutoCloseable {
        /**
         * Runs {@code code} and returns when the server says it finished: Tether's answer,
         * Jupyter's execute_reply and the idle status.
         *
         * @throws IllegalStateException when the execution did not end ok
         */
        Reply execute(String code) throws IOException, InterruptedException;

        /** Ends the session (Tether) or shuts the kernel down (Jupyter). */
        @Override
        void close() throws IOException, InterruptedException;
    }

    /** What an execution wrote to stdout and the text of its result ({@code null}: none). */
    record Reply(String stdout, String result) {
    }
}
