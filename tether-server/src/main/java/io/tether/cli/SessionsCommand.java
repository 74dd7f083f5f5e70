package io.tether.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.TetherException;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStatus;
import io.tether.store.Page;
import io.tether.store.SessionQuery;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tether sessions create|ls|show|touch|update|end}. */
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

    @Command(name = "create", description = "Create a plain session and print it.")
    static final class Create extends StoreCommand {
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
            out.session(key == null ? manager.create(s) : manager.getOrCreate(s));
        }
    }

    @Command(name = "ls", description = "List sessions, newest first.")
    static final class Ls extends StoreCommand {
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
            SessionStatus st = status != null ? SessionStatus.fromWire(status) : all ? null : SessionStatus.ACTIVE;
            Page<Session> page = manager.list(new SessionQuery(owner, st, null, limit, cursor));
            out.sessions(page.items(), page.nextCursor());
        }
    }

    @Command(name = "show", description = "Show one session.")
    static final class Show extends StoreCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(manager.get(id));
        }
    }

    @Command(name = "touch", description = "Record activity on a session.")
    static final class Touch extends StoreCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(manager.touch(id));
        }
    }

    @Command(name = "update", description = "Merge JSON into a session's data and metadata (null removes a key).")
    static final class Update extends StoreCommand {
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
            out.session(manager.update(id, patches.data == null ? null : object(patches.data, "--data"),
                    patches.metadata == null ? null : object(patches.metadata, "--metadata")));
        }
    }

    @Command(name = "end", description = "End a session (idempotent) and print its final record.")
    static final class End extends StoreCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--reason", defaultValue = "manual", description = "Why (snake_case; default manual).")
        String reason;

        @Override
        void run(SessionManager manager, Output out) {
            out.session(manager.end(id, EndReason.of(reason)));
        }
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
