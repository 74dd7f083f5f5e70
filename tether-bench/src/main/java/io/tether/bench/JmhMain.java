package io.tether.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * {@code ./tether bench}: JMH's own command line, with the answers every bench command gives.
 * {@code --help} (which JMH does not know) prints the usage and JMH's options, exit 0; an
 * option JMH does not recognise prints JMH's reason and the usage, exit 2 (JMH alone exits 1
 * without a usage). Anything else goes to {@link org.openjdk.jmh.Main} unchanged.
 */
public final class JmhMain {
    static final String USAGE = """
            usage: ./tether bench [JMH options] [BENCHMARK REGEXP...]
              the JMH microbenchmarks (pool acquire, session lifecycle and lookup, Python execute);
              any JMH option can follow, e.g. -f 1 -wi 2 -i 3 PoolAcquire; -h lists them all
            """;

    private JmhMain() {
    }

    public static void main(String[] args) throws Exception {
        int exit = check(args, System.out, System.err);
        if (exit >= 0) {
            System.exit(exit);
        }
        org.openjdk.jmh.Main.main(args);
    }

    /**
     * Answers {@code --help} and bad options: the exit code to end with, or -1 when JMH should
     * run {@code args}.
     */
    static int check(String[] args, PrintStream out, PrintStream err) throws IOException {
        List<String> all = List.of(args);
        if (all.contains("--help") || all.contains("-h")) {
            out.println(USAGE.strip());
            out.println();
            try {
                new CommandLineOptions("-h").showHelp();
            } catch (CommandLineOptionException e) {
                throw new IllegalStateException("JMH refused its own -h", e);
            }
            return 0;
        }
        try {
            new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            err.println(e.getMessage());
            err.println(USAGE.strip());
            return 2;
        }
        return -1;
    }
}
