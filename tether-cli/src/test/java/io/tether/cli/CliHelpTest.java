package io.tether.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** {@code --help} works on every command and subcommand, also those with required options or parameters. */
class CliHelpTest {

    /** Every command line {@code tether … --help}, from the command tree itself: new commands are covered too. */
    static Stream<List<String>> commands() {
        List<List<String>> all = new ArrayList<>();
        walk(TetherCli.commandLine(Map.of()), new ArrayList<>(), all);
        assertThat(all).as("the tree has the commands we know of").hasSizeGreaterThan(15);
        return all.stream();
    }

    private static void walk(CommandLine command, List<String> path, List<List<String>> all) {
        all.add(List.copyOf(path));
        command.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandSpec().userObject() instanceof CommandLine.HelpCommand) {
                return; // `tether help` prints help by itself; it has no --help of its own
            }
            if (!sub.getCommandName().equals(name)) {
                return; // an alias of a command already walked
            }
            List<String> next = new ArrayList<>(path);
            next.add(name);
            walk(sub, next, all);
        });
    }

    @ParameterizedTest(name = "tether {0} --help")
    @MethodSource("commands")
    void helpPrintsUsageAndExitsZero(List<String> command) {
        List<String> args = new ArrayList<>(command);
        args.add("--help");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = TetherCli.run(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true),
                Map.of());
        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString()).startsWith("Usage: tether" + (command.isEmpty() ? "" : " " + String.join(" ",
                command))).contains("-h, --help");
        assertThat(err.toString()).isEmpty();
    }
}
