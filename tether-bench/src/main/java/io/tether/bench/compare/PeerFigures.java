package io.tether.bench.compare;

import io.tether.bench.compare.Stats.Latency;

/**
 * What one run measured on one server; a workload that was not run on it is {@code null}.
 *
 * @param start      session (kernel) start until its first execution answered
 * @param open       the part of {@code start} before the first execution was sent: Tether's create
 *                   request; Jupyter's kernel start request and websocket handshake
 * @param execute    round trip of {@code x = x + 1} on a warm session
 * @param print      round trip of an execution that prints one line
 * @param throughput concurrent sessions each running {@code x = x + 1} back to back
 * @param memory     idle sessions and the server, by PSS
 * @param capacity   idle sessions held within a memory budget
 * @param executeLean round trip of {@code x = x + 1} with the leanest client the harness has for the
 *                   server's protocol: Tether, HTTP/1.1 written and read on a plain socket
 *                   ({@link LeanHttp}); Jupyter, the same JDK WebSocket client as {@code execute}
 * @param executeClient the same round trip through Tether's own Java client (tether-client); Tether only
 * @param coldStart  a freshly launched server: its process start until the first execution answered,
 *                   and the first executions after it
 * @param capacity10k the opt-in run with thousands of idle sessions (Tether only)
 */
record PeerFigures(String peer, Latency start, Latency open, Latency execute, Latency print, Throughput throughput,
                   Memory memory, Capacity capacity, Latency executeLean, Latency executeClient, ColdStart coldStart,
                   Capacity10k capacity10k) {

    /** The figures of the workloads every server runs, without the newer rows (as older result files hold). */
    PeerFigures(String peer, Latency start, Latency open, Latency execute, Latency print, Throughput throughput,
                Memory memory, Capacity capacity) {
        this(peer, start, open, execute, print, throughput, memory, capacity, null, null, null, null);
    }

    /**
     * A server launched afresh ({@code ./tether serve}; {@code python3 -m jupyter_server}):
     *
     * @param readyMs       process start until the harness saw it ready (Tether: its {@code server.json}
     *                      written and {@code /healthz} answered; Jupyter: {@code /api/status} answered)
     * @param firstAnswerMs process start until a session was created and its first execution
     *                      ({@code x = 0}) answered
     * @param first         the next executions of {@code x = x + 1} in that session, with the lean client
     */
    record ColdStart(double readyMs, double firstAnswerMs, Latency first) {
    }

    /**
     * Idle sessions opened one after another (each created and answered {@code x = 0}) up to
     * {@code target}, on a server whose limits allow that many; then all ended.
     *
     * @param created       sessions created
     * @param answered      of those, sessions whose execution answered ok
     * @param stoppedBy     {@code target}, {@code memory} (the machine's used memory reached the stop
     *                      figure) or the error that stopped it
     * @param totalPssMb    PSS of the server and every process below it with {@code created} sessions
     * @param baselinePssMb the same with none
     * @param perSessionPssMb ({@code totalPssMb} − {@code baselinePssMb}) / {@code created}
     * @param seconds       how long creating them took
     * @param processes     processes below the server at the peak
     * @param threads       threads (pids) of the server and those processes at the peak
     * @param serverFds     open file descriptors of the server process at the peak
     * @param nofile        the server's limit of open files (soft), as it ran
     * @param pidMax        the kernel's {@code pid_max}
     * @param left          session processes still alive after every session was ended
     * @param endSeconds    how long ending them and seeing their processes gone took
     * @param kernelMb      the kernel's memory that no PSS shows (Slab, PageTables and KernelStack of
     *                      /proc/meminfo: a session's namespaces, cgroup, page tables), with no sessions
     * @param kernelPeakMb  the same with {@code created} sessions (other tenants count in both)
     */
    record Capacity10k(int target, int created, int answered, String stoppedBy, double totalPssMb,
                       double baselinePssMb, double perSessionPssMb, double seconds, int processes, int threads,
                       int serverFds, long nofile, long pidMax, int left, double endSeconds, double kernelMb,
                       double kernelPeakMb) {

        /** The kernel's memory per session, MB: its growth over the sessions. */
        double kernelPerSessionMb() {
            return created == 0 ? 0 : (kernelPeakMb - kernelMb) / created;
        }
    }

    /**
     * Executions completed by {@code sessions} concurrent clients within {@code seconds}, and
     * the CPU time per execution in that window: of the server and every process below it,
     * and of the client (the harness's JVM).
     */
    record Throughput(int sessions, double seconds, long executions, double perSecond, double serverCpuMs,
                      double clientCpuMs) {
    }

    /**
     * PSS (proportional set size, from /proc/PID/smaps_rollup) of {@code sessions} idle
     * sessions' processes (median, smallest, largest; and the median private and RSS
     * figures); and, before those sessions were opened, of the server process and of its
     * helper processes (Tether: the fork server and idle pool workers; Jupyter: none).
     */
    record Memory(int sessions, double sessionPssMb, double sessionPssMinMb, double sessionPssMaxMb,
                  double sessionPrivateMb, double sessionRssMb, double serverPssMb, double helpersPssMb) {
    }

    /**
     * Idle sessions opened one after another until the PSS of the server and every process
     * it runs passed {@code budgetMb}, or {@code cap} sessions.
     *
     * @param sessions     the most sessions that were measured within the budget
     * @param totalPssMb   the PSS of everything with that many sessions
     * @param baselinePssMb the PSS of everything with none
     * @param marginalPssMb what one more session cost the machine, server growth included
     * @param stoppedBy    {@code budget} or {@code cap}
     * @param seconds      how long opening them took
     */
    record Capacity(long budgetMb, int cap, int sessions, double totalPssMb, double baselinePssMb,
                    double marginalPssMb, String stoppedBy, double seconds) {
    }
}
