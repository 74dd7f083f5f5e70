package io.tether.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.TetherException;
import io.tether.server.http.Wire;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tether sessions create|ls|show|touch|update|end}: on a server when one is named
 * ({@code --url}, {@code TETHER_URL}) or runs on the data directory, else on the embedded
 * store there. The output is the same either way.
 */
@Command(name = "sessions", description = "Create, list, show, touch, update and end sessions.",
        subcommands = {SessionsCommand.Create.class, SessionsCommand.Ls.class, SessionsCommand.Show.class,
                SessionsCommand.Touch.class, SessionsCommand.Update.class, SessionsCommand.End.class})
final class SessionsCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A command that opens the store, does one thing with the manager and closes it. */
    abstract static class StoreCommand implements Callable<Integer> {
        @Mixin
        TetherCli.StoreOptions options = new TetherCli.StoreOptions();

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Output out = new Output(spec.commandLine().getOut(), options.json);
            try (SessionManager manager = EmbeddedTether.open(options.dataDir, withPython())) {
                run(manager, out);
            }
            return 0;
        }

        abstract void run(SessionManager manager, Output out);

        /** Whether this command needs the Python runtime. */
        boolean withPython() {
            return false;
        }
    }

    /**
     * A command that calls the server when one is named or runs on the data directory (its
     * {@code server.json} is there), and opens the store itself otherwise: while a server
     * runs, it holds the store.
     */
    abstract static class StoreOrServerCommand extends StoreCommand {
        @Mixin
        TetherCli.ServerOptions server = new TetherCli.ServerOptions();

        @Override
        public Integer call() {
            if (server.named() || ServerTarget.runningServer(options.dataDir).isPresent()) {
                run(server.client(options.dataDir), new Output(spec.commandLine().getOut(), options.json));
                return 0;
            }
            return super.call();
        }

        abstract void run(ServerClient server, Output out);
    }

    @Command(name = "create", description = "Create a plain session and print it.")
    static final class Create extends StoreOrServerCommand {
        @Option(names = "--owner", required = true, description = "Who the session belongs to.")
        String owner;

        @Option(names = "--key", description = "Get-or-create: reuse the owner's active session with this key.")
        String key;

        @Option(names = "--data", paramLabel = "JSON", description = "Initial data, a JSON object.")
        String data;

        @Option(names = "--metadata", paramLabel = "JSON", description = "Initial metadata, a JSON object.")
        String metadata;

        @Option(names = "--idle-timeout", converter = DurationConverter.class,
                description = "Expire after this long without activity (e.g. 30m; default 30m).")
        Duration idleTimeout;

        @Option(names = "--max-lifetime", converter = DurationConverter.class,
                description = "Expire this long after creation (default: never).")
        Duration maxLifetime;

        @Override
        void run(SessionManager manager, Output out) {
            SessionSpec.Builder b = SessionSpec.builder(owner).key(key)
                    .data(object(data, "--data")).metadata(object(metadata, "--metadata"));
            if (idleTimeout != null) {
                b.idleTimeout(idleTimeout);
            }
            if (maxLifetime != null) {
                b.maxLifetime(maxLifetime);
            }
            SessionSpec s = b.build();
            out.session(Wire.session(key == null ? manager.create(s) : manager.getOrCreate(s)));
        }

        @Override
        void run(ServerClient server, Output out) {
            out.session(server.send("POST", ServerClient.object("owner", owner, "key", key,
                    "data", data == null ? null : object(data, "--data"),
                    "metadata", metadata == null ? null : object(metadata, "--metadata"),
                    "idle_timeout", seconds(idleTimeout), "max_lifetime", seconds(maxLifetime)), "v1", "sessions"));
        }
    }

    @Command(name = "ls", description = "List sessions, newest first.")
    static final class Ls extends StoreOrServerCommand {
        @Option(names = "--owner", description = "Only this owner's sessions.")
        String owner;

        @Option(names = "--status", description = "Only this status: active, ended, timeout or error.")
        String status;

        @Option(names = "--all", description = "Every status (default: active only).")
        boolean all;

        @Option(names = "--limit", defaultValue = "50", description = "Page size (1-1000; default 50).")
        int limit;

        @Option(names = "--cursor", description = "Continue after a previous page.")
        String cursor;

        @Override
        void run(SessionManager manager, Output out) {
            Page<Session> page = manager.list(new SessionQuery(owner, status(), null, limit, cursor));
            out.sessions(page.items().stream().map(Wire::session).toList(), page.nextCursor());
        }

        @Override
        @SuppressWarnings("unchecked")
        void run(ServerClient server, Output out) {
            SessionStatus st = status();
            Map<String, String> query = new LinkedHashMap<>();
            query.put("owner", owner);
            query.put("status", st == null ? null : st.wireName());
            query.put("limit", Integer.toString(limit));
            query.put("cursor", cursor);
            Map<String, Object> page = server.get(query, "v1", "sessions");
            out.sessions((List<Map<String, Object>>) page.get("items"), (String) page.get("next_cursor"));
        }

        private SessionStatus status() {
            return status != null ? SessionStatus.fromWire(status) : all ? null : SessionStatus.ACTIVE;
        }
    }

    @Command(name = "show", description = "Show one session.")
    static final class Show extends StoreOrServerCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(Wire.session(manager.get(id)));
        }

        @Override
        void run(ServerClient server, Output out) {
            out.session(server.get(Map.of(), "v1", "sessions", id));
        }
    }

    @Command(name = "touch", description = "Record activity on a session.")
    static final class Touch extends StoreOrServerCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(Wire.session(manager.touch(id)));
        }

        @Override
        void run(ServerClient server, Output out) {
            out.session(server.send("POST", null, "v1", "sessions", id, "touch"));
        }
    }

    @Command(name = "update", description = "Merge JSON into a session's data and metadata (null removes a key).")
    static final class Update extends StoreOrServerCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @ArgGroup(exclusive = false, multiplicity = "1")
        Patches patches;

        static final class Patches {
            @Option(names = "--data", paramLabel = "JSON", description = "Merge patch for data.")
            String data;

            @Option(names = "--metadata", paramLabel = "JSON", description = "Merge patch for metadata.")
            String metadata;
        }

        @Override
        void run(SessionManager manager, Output out) {
            out.session(Wire.session(manager.update(id, patches.data == null ? null : object(patches.data, "--data"),
                    patches.metadata == null ? null : object(patches.metadata, "--metadata"))));
        }

        @Override
        void run(ServerClient server, Output out) {
            out.session(server.send("PATCH", ServerClient.object(
                    "data", patches.data == null ? null : object(patches.data, "--data"),
                    "metadata", patches.metadata == null ? null : object(patches.metadata, "--metadata")),
                    "v1", "sessions", id));
        }
    }

    @Command(name = "end", description = "End a session (idempotent) and print its final record.")
    static final class End extends StoreOrServerCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--reason", defaultValue = "manual", description = "Why (snake_case; default manual).")
        String reason;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(Wire.session(manager.end(id, EndReason.of(reason))));
        }

        @Override
        void run(ServerClient server, Output out) {
            out.session(server.send("DELETE", Map.of("reason", EndReason.of(reason).code()), "v1", "sessions", id));
        }
    }

    /** A duration as API v1 takes it: seconds. */
    private static Object seconds(Duration d) {
        return d == null ? null : d.toMillis() % 1000 == 0 ? (Object) d.toSeconds() : (Object) (d.toMillis() / 1000.0);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String json, String option) {
        if (json == null) {
            return Map.of();
        }
        try {
            Object v = JSON.readValue(json, Object.class);
            if (v instanceof Map<?, ?> m) {
                return (Map<String, Object>) m;
            }
            throw TetherException.invalid(option + " must be a JSON object, got: " + json);
        } catch (JsonProcessingException e) {
            throw TetherException.invalid(option + " is not valid JSON: " + e.getOriginalMessage());
        }
    }
}
