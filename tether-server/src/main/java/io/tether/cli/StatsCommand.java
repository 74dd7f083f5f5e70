package io.tether.cli;

import io.tether.session.SessionManager;
import io.tether.session.SessionStats;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;

/**
 * {@code tether stats}: counts of sessions, from the server when one is named or runs on
 * the data directory, else from the store there. A server adds what only it knows (peak
 * active sessions, executions running now) after the common fields; a token that is not an
 * admin's sees its own owner's active sessions only.
 */
@Command(name = "stats", description = "Count sessions: active, created, ended by reason, per owner.")
final class StatsCommand extends SessionsCommand.StoreOrServerCommand {
    /** The fields both sources give, in this order. */
    private static final List<String> COMMON = List.of("active", "total_created", "ended_by_reason", "active_by_owner");

    @Override
    void run(SessionManager manager, Output out) {
        SessionStats s = manager.stats();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("active", s.active());
        m.put("total_created", s.totalCreated());
        m.put("ended_by_reason", s.endedByReason());
        m.put("active_by_owner", s.activeByOwner());
        print(m, out);
    }

    @Override
    void run(ServerClient server, Output out) {
        print(server.get(Map.of(), "v1", "stats"), out);
    }

    private static void print(Map<String, Object> stats, Output out) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String k : COMMON) {
            if (stats.containsKey(k)) {
                m.put(k, stats.get(k));
            }
        }
        stats.forEach(m::putIfAbsent);
        m.replaceAll((k, v) -> v instanceof Map<?, ?> counts ? new TreeMap<>(counts) : v);
        if (out.json()) {
            out.json(m);
        } else {
            m.forEach((k, v) -> out.line(String.format("%-16s %s", k, v)));
        }
    }
}
