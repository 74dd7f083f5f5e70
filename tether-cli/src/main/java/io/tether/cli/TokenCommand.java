package io.tether.cli;

import io.tether.TetherException;
import io.tether.server.ServerConfig;
import io.tether.server.Settings;
import io.tether.server.auth.CreatedToken;
import io.tether.server.auth.TokenInfo;
import io.tether.server.auth.TokenStore;
import io.tether.store.postgres.PostgresSessionStore;
import io.tether.store.postgres.PostgresUrl;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tether token create|ls|revoke}: the server's bearer tokens. These commands touch
 * only {@code tokens.json} and {@code tokens.lock} in the data directory, never the session
 * store, so they work while a server runs (which sees the change at its next request). With a
 * PostgreSQL store ({@code --store-url}, or {@code store = postgresql} in the configuration)
 * the tokens are the database's {@code tokens} table, which every node sharing it uses.
 */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Create, list and revoke the tokens clients authenticate with.",
        subcommands = {TokenCommand.Create.class, TokenCommand.Ls.class, TokenCommand.Revoke.class})
final class TokenCommand {
    private TokenCommand() {
    }

    /** A command that opens the data directory's tokens and does one thing with them. */
    abstract static class TokensCommand extends TetherCli.DataDirCommand {
        @Mixin
        TetherCli.JsonOption json = new TetherCli.JsonOption();

        @Override
        boolean json() {
            return json.json;
        }

        @Option(names = "--store-url", paramLabel = "URL", description = {
                "The PostgreSQL store whose tokens to manage (postgresql://user@host:5432/db); default the "
                        + "configuration's store_url when its store is postgresql, else the data directory's tokens.",
                "Give the password in TETHER_STORE_PASSWORD or --store-password-file, not in the URL: other users "
                        + "can see a command's arguments."})
        String storeUrl;

        @Option(names = "--store-password-file", paramLabel = "FILE",
                description = "A file whose first line is the PostgreSQL password.")
        String storePasswordFile;

        @Override
        public Integer call() {
            Path dataDir = place.resolveDataDir(spec);
            Optional<PostgresUrl> postgres = postgresStore();
            if (postgres.isEmpty()) {
                return run(TokenStore.open(dataDir), output());
            }
            try (PostgresSessionStore store = PostgresSessionStore.builder().url(postgres.get()).maximumPoolSize(2)
                    .build()) {
                return run(TokenStore.inDatabase(store.dataSource(), store.url().redacted(), dataDir), output());
            }
        }

        private Optional<PostgresUrl> postgresStore() {
            Map<String, String> flags = new HashMap<>();
            if (storeUrl != null) {
                flags.put("store", "postgresql");
                flags.put("store_url", storeUrl);
            }
            if (storePasswordFile != null) {
                flags.put("store_password_file", storePasswordFile);
            }
            try {
                return ServerConfig.postgresStore(Settings.resolve(flags, TetherCli.root(spec).env, place.config));
            } catch (IllegalArgumentException e) {
                throw TetherException.invalid(e.getMessage());
            }
        }

        abstract int run(TokenStore tokens, Output out);
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create a token and print it: the only time it is shown.",
                    "Text output ends with the token, its last word."})
    static final class Create extends TokensCommand {
        @Option(names = "--owner", required = true, description = "Who requests with this token act for.")
        String owner;

        @Option(names = "--admin", description = "The token sees every owner's sessions.")
        boolean admin;

        @Override
        int run(TokenStore tokens, Output out) {
            CreatedToken created = tokens.create(owner, admin);
            TokenInfo info = created.info();
            if (out.json()) {
                Map<String, Object> m = describe(info);
                m.put("token", created.token());
                out.json(m);
            } else {
                out.line("created " + (info.admin() ? "admin " : "") + "token " + info.id() + " for owner "
                        + info.owner() + ": " + created.token());
            }
            return 0;
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = "List tokens, oldest first (never their secrets).")
    static final class Ls extends TokensCommand {
        @Override
        int run(TokenStore tokens, Output out) {
            List<TokenInfo> all = tokens.list();
            if (out.json()) {
                out.json(Map.of("tokens", all.stream().map(TokenCommand::describe).toList()));
                return 0;
            }
            out.line(String.format("%-10s  %-5s  %-24s  %s", "ID", "ADMIN", "CREATED", "OWNER"));
            for (TokenInfo t : all) {
                out.line(String.format("%-10s  %-5s  %-24s  %s",
                        t.id(), t.admin() ? "yes" : "no", t.createdAt(), t.owner()));
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a token by its id: it stops working at once, also for a running server.")
    static final class Revoke extends TokensCommand {
        @Parameters(paramLabel = "ID", description = "The token's id, as `tether token ls` shows it.")
        String id;

        @Override
        int run(TokenStore tokens, Output out) {
            if (!tokens.revoke(id)) {
                spec.commandLine().getErr().println("tether: token_not_found: no token with id '" + id + "'");
                return TetherCli.EXIT_NOT_FOUND;
            }
            if (out.json()) {
                out.json(Map.of("revoked", id));
            } else {
                out.line("revoked token " + id);
            }
            return 0;
        }
    }

    private static Map<String, Object> describe(TokenInfo t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("owner", t.owner());
        m.put("admin", t.admin());
        m.put("created_at", t.createdAt().toString());
        return m;
    }
}
