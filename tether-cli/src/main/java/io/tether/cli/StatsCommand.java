package io.tether.cli;

import io.tether.client.ServerStats;
import io.tether.client.TetherClient;
import io.tether.session.SessionManager;
import io.tether.session.SessionStats;
import picocli.CommandLine.Command;

/**
 * {@code tether stats}: counts of sessions, from the server when one is named or runs on
 * the data directory, else from the store there. A server adds what only it knows (peak
 * active sessions, executions running now) after the common fields; a token that is not an
 * admin's sees its own owner's active sessions only.
 */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Count sessions: active, created, ended by reason, per owner.")
final class StatsCommand extends SessionsCommand.StoreOrServerCommand {
    @Override
    void run(SessionManager manager, Output out) {
        SessionStats s = manager.stats();
        // A short-lived command knows neither a meaningful peak nor what runs: -1, left out.
        out.fields(ApiJson.stats(new ServerStats(s.active(), -1, s.totalCreated(), -1, s.endedByReason(),
                s.activeByOwner())));
    }

    @Override
    void run(TetherClient server, Output out) {
        out.fields(ApiJson.stats(server.stats()));
    }
}
