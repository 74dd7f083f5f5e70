package io.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class UsageTest {
    /** Every bench command answers --help with its usage and runs nothing. */
    @ParameterizedTest
    @ValueSource(strings = {"runtimes-bench", "purge-bench", "footprint"})
    void everyBenchCommandHasHelp(String command) throws Exception {
        PrintStream was = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            switch (command) {
                case "runtimes-bench" -> RuntimeHarness.main(new String[] {"--sandbox", "on", "--help"});
                case "purge-bench" -> PurgeHarness.main(new String[] {"--help"});
                default -> SessionFootprint.main(new String[] {"-h"});
            }
        } finally {
            System.setOut(was);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("usage: ./tether " + command);
    }

    @Test
    void benchAnswersHelpWithItsUsageAndJmhsOptions() throws Exception {
        PrintStream was = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = JmhMain.check(new String[] {"--help"}, System.out, System.err);
        } finally {
            System.setOut(was);
        }
        assertThat(exit).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("usage: ./tether bench").contains("-wi <int>");
    }

    @Test
    void benchRefusesAnUnknownOptionWithExitTwoAndRunsTheRestThroughJmh() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertThat(JmhMain.check(new String[] {"--bogus"}, System.out, errStream)).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("bogus is not a recognized option")
                .contains("usage: ./tether bench");
        assertThat(JmhMain.check(new String[] {"-f", "1", "-wi", "2", "PoolAcquire"}, System.out, errStream))
                .isEqualTo(-1);
    }

    @Test
    void positionalCommandsNameAnUnknownOption() {
        assertThatThrownBy(() -> Usage.rejectOptions(new String[] {"100", "--bogus"}))
                .isInstanceOf(Usage.BadArgument.class).hasMessage("unknown option --bogus");
        Usage.rejectOptions(new String[] {"100", "/tmp/x"});
    }

    @Test
    void numbersAreCheckedWithAReason() {
        assertThat(Usage.wholeNumber("N", "1_000", 1)).isEqualTo(1000);
        assertThatThrownBy(() -> Usage.wholeNumber("--sessions", "x", 20)).isInstanceOf(Usage.BadArgument.class)
                .hasMessage("--sessions must be a whole number, was 'x'");
        assertThatThrownBy(() -> Usage.wholeNumber("--sessions", "5", 20)).isInstanceOf(Usage.BadArgument.class)
                .hasMessage("--sessions must be at least 20, was 5");
    }
}
