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
 */
record PeerFigures(String peer, Latency start, Latency open, Latency execute, Latency print, Throughput throughput,
                   Memory memory, Capacity capacity) {

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
