package io.tether.cli;

import io.tether.session.SessionManager;
import io.tether.session.SessionStats;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;

/** {@code tether stats}: counts of the store's sessions. */
@Command(name = "stats", description = "Count sessions: active, created, ended by reason, per owner.")
final class StatsCommand extends SessionsCommand.StoreCommand {
    @Override
    void run(SessionManager manager, Output out) {
        SessionStats s = manager.stats();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("active", s.active());
        m.put("total_created", s.totalCreated());
        m.put("ended_by_reason", new TreeMap<>(s.endedByReason()));
        m.put("active_by_owner", new TreeMap<>(s.activeByOwner()));
        if (out.json()) {
            out.json(m);
        } else {
            m.forEach((k, v) -> out.line(String.format("%-16s %s", k, v)));
        }
    }
}
