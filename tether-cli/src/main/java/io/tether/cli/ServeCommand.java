package io.tether.cli;

import io.tether.server.ServerConfig;
import io.tether.server.Settings;
import io.tether.server.TetherServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tether serve}: runs the server until SIGTERM or Ctrl-C, then shuts down
 * gracefully. Every setting of {@link Settings} is a flag here (added at start-up from the
 * one definition), also settable by environment variable and config file.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the Tether server (HTTP API v1). Every setting is also an environment "
        + "variable TETHER_<NAME> and a key of the config file; see docs/configuration.md.")
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = Settings.CONFIG_FLAG, paramLabel = "FILE",
            description = "Config file (properties: key = value); default $TETHER_CONFIG, else ./tether.conf if present.")
    Path config;

    /** Environment the settings are read from (tests pass their own). */
    private final Map<String, String> env;
    /** Released to stop a server started by a test; {@code null} to run until the JVM stops. */
    private final CountDownLatch stop;

    ServeCommand(Map<String, String> env, CountDownLatch stop) {
        this.env = env;
        this.stop = stop;
    }

    /** Adds a flag for every setting to the {@code serve} command. */
    static void addSettingFlags(CommandSpec serve) {
        for (Settings.Setting s : Settings.all()) {
            serve.addOption(OptionSpec.builder(s.flag())
                    .paramLabel("VALUE")
                    .type(String.class)
                    .description(s.description().replace("`", "") + " Default: " + (s.defaultText().isEmpty()
                            ? "(empty)" : s.defaultText()) + "; env " + s.env() + ".")
                    .build());
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, String> flags = new LinkedHashMap<>();
        for (Settings.Setting s : Settings.all()) {
            OptionSpec o = spec.findOption(s.flag());
            List<String> given = o.originalStringValues();
            if (!given.isEmpty()) {
                flags.put(s.key(), given.get(given.size() - 1));
            }
        }
        ServerConfig cfg;
        try {
            cfg = ServerConfig.from(Settings.resolve(flags, env, config));
        } catch (IllegalArgumentException e) {
            err.println("tether: " + e.getMessage());
            return 2;
        }
        TetherServer server;
        try {
            server = TetherServer.start(cfg);
        } catch (IllegalArgumentException e) {
            err.println("tether: " + e.getMessage());
            return 2;
        }
        server.printBanner(out);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            out.println("tether: shutting down…");
            out.flush();
            server.close();
            stopped.countDown();
        }, "tether-shutdown");
        if (stop == null) {
            Runtime.getRuntime().addShutdownHook(hook);
            stopped.await();
        } else {
            stop.await();
            hook.run();
        }
        return 0;
    }

    static CommandLine.IFactory factory(Map<String, String> env, CountDownLatch stop) {
        CommandLine.IFactory base = CommandLine.defaultFactory();
        return new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == ServeCommand.class) {
                    return cls.cast(new ServeCommand(env, stop));
                }
                return base.create(cls);
            }
        };
    }
}
