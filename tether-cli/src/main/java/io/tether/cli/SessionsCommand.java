package io.tether.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.TetherException;
import io.tether.client.NewSession;
import io.tether.client.SessionPage;
import io.tether.client.TetherClient;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tether sessions create|ls|show|touch|update|end}: on a server when one is named
 * ({@code --url}, {@code TETHER_URL}) or runs on the data directory, else on the embedded
 * store there. The output is the same either way.
 */
@Command(name = "sessions", mixinStandardHelpOptions = true,
        description = "Create, list, show, touch, update and end sessions.",
        subcommands = {SessionsCommand.Create.class, SessionsCommand.Ls.class, SessionsCommand.Show.class,
                SessionsCommand.Touch.class, SessionsCommand.Update.class, SessionsCommand.End.class})
final class SessionsCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SessionsCommand() {
    }

    /** A command that opens the store, does one thing with the manager and closes it. */
    abstract static class StoreCommand extends TetherCli.DataDirCommand {
        @Override
        public Integer call() {
            return onStore(place.resolveDataDir(spec));
        }

        final Integer onStore(java.nio.file.Path dataDir) {
            try (SessionManager manager = EmbeddedTether.open(dataDir, withPython())) {
                run(manager, output(), dataDir);
            }
            return 0;
        }

        abstract void run(SessionManager manager, Output out, java.nio.file.Path dataDir);

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

        @Mixin
        TetherCli.JsonOption json = new TetherCli.JsonOption();

        @Override
        boolean json() {
            return json.json;
        }

        @Override
        public Integer call() {
            Target target = server.resolve(place, spec);
            if (!target.running()) {
                return onStore(target.dataDir());
            }
            try (TetherClient client = target.client()) {
                run(client, output());
            }
            return 0;
        }

        @Override
        final void run(SessionManager manager, Output out, java.nio.file.Path dataDir) {
            run(manager, out);
        }

        abstract void run(SessionManager manager, Output out);

        abstract void run(TetherClient server, Output out);
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a plain session and print it.")
    static final class Create extends StoreOrServerCommand {
        @Option(names = "--owner", required = true, description = "Who the session belongs to (on a server: admin "
                + "tokens only, others create their own).")
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
            out.session(ApiJson.session(key == null ? manager.create(s) : manager.getOrCreate(s)));
        }

        @Override
        void run(TetherClient server, Output out) {
            NewSession.Builder b = NewSession.builder().owner(nonBlank(owner, "--owner"));
            if (key != null) {
                b.key(nonBlank(key, "--key"));
            }
            if (data != null) {
                b.data(object(data, "--data"));
            }
            if (metadata != null) {
                b.metadata(object(metadata, "--metadata"));
            }
            if (idleTimeout != null) {
                b.idleTimeout(idleTimeout);
            }
            if (maxLifetime != null) {
                b.maxLifetime(maxLifetime);
            }
            out.session(server.createSession(b.build()));
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List sessions, newest first.")
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
            out.sessions(page.items().stream().map(ApiJson::session).toList(), page.nextCursor());
        }

        @Override
        void run(TetherClient server, Output out) {
            SessionStatus st = status();
            if (limit < 1 || limit > 1000) {
                throw TetherException.invalid("--limit must be from 1 to 1000, got " + limit);
            }
            io.tether.client.SessionQuery q = new io.tether.client.SessionQuery(st == null ? null
                    : io.tether.client.SessionStatus.valueOf(st.wireName().toUpperCase(Locale.ROOT)), null, owner,
                    limit, cursor);
            SessionPage page = server.sessions(q);
            out.sessions(page.items(), page.nextCursor());
        }

        private SessionStatus status() {
            return status != null ? SessionStatus.fromWire(status) : all ? null : SessionStatus.ACTIVE;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one session.")
    static final class Show extends StoreOrServerCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(ApiJson.session(manager.get(id)));
        }

        @Override
        void run(TetherClient server, Output out) {
            out.session(server.session(id));
        }
    }

    @Command(name = "touch", mixinStandardHelpOptions = true, description = "Record activity on a session.")
    static final class Touch extends StoreOrServerCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(ApiJson.session(manager.touch(id)));
        }

        @Override
        void run(TetherClient server, Output out) {
            out.session(server.touch(id));
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = "Merge JSON into a session's data and metadata (null removes a key).")
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
            out.session(ApiJson.session(manager.update(id, patch(patches.data, "--data"),
                    patch(patches.metadata, "--metadata"))));
        }

        @Override
        void run(TetherClient server, Output out) {
            out.session(server.updateSession(id, patch(patches.data, "--data"),
                    patch(patches.metadata, "--metadata")));
        }

        private static Map<String, Object> patch(String json, String option) {
            return json == null ? null : object(json, option);
        }
    }

    @Command(name = "end", mixinStandardHelpOptions = true,
            description = "End a session (idempotent) and print its final record.")
    static final class End extends StoreOrServerCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--reason", defaultValue = "manual", description = "Why (snake_case; default manual).")
        String reason;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(ApiJson.session(manager.end(id, EndReason.of(reason))));
        }

        @Override
        void run(TetherClient server, Output out) {
            out.session(server.endSession(id, EndReason.of(reason).code()));
        }
    }

    private static String nonBlank(String value, String option) {
        if (value.isBlank()) {
            throw TetherException.invalid(option + " must not be blank");
        }
        return value;
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
