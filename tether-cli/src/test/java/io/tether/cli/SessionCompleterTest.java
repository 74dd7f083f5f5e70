package io.tether.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.client.TetherClient;
import io.tether.server.ServerConfig;
import io.tether.server.Settings;
import io.tether.server.TetherServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jline.reader.Candidate;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Tab in {@code tether repl}: the completer against a real server and a real Python session. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionCompleterTest {
    @TempDir
    static Path dataDir;
    static TetherServer server;
    static TetherClient client;
    static String session;

    @BeforeAll
    static void start() {
        ServerCliTest.openToTheJail(dataDir);
        server = TetherServer.start(ServerConfig.from(Settings.resolve(Map.of("port", "0",
                "data_dir", dataDir.toString(), "auth", "none", "runtimes", "python", "store", "memory",
                "python_pool_min_idle", "1", "jshell_pool_min_idle", "0", "access_log", "false"), Map.of(), null)));
        client = TetherClient.builder().baseUrl(server.url()).build();
        session = client.createSession("python").id();
        client.execute(session, "answer_to_everything = 42\nimport os");
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void candidatesAreTheLineWithTheServersRangeReplaced() {
        SessionCompleter completer = new SessionCompleter(client, session);
        List<Candidate> found = completer.candidates("print(answer_t", 14);
        assertThat(found).extracting(Candidate::value).containsExactly("print(answer_to_everything");
        assertThat(found).extracting(Candidate::displ).containsExactly("answer_to_everything");
        assertThat(found).allMatch(c -> !c.complete());
        assertThat(completer.candidates("x = os.pa + 1", 9)).extracting(Candidate::value).contains("x = os.path");
    }

    @Test
    void aFailingCallOffersNothing() {
        SessionCompleter gone = new SessionCompleter(client, "AAAAAAAAAAAAAAAAAAAAAA");
        assertThat(gone.candidates("answer_t", 8)).isEmpty();
    }

    @Test
    void tabInTheLineReaderCompletesFromTheSession() throws Exception {
        ByteArrayInputStream typed = new ByteArrayInputStream("y = answer_to\t + 1\n".getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        try (Terminal terminal = new DumbTerminal("test", "xterm", typed, shown, StandardCharsets.UTF_8)) {
            DefaultParser parser = new DefaultParser();
            parser.setEscapeChars(new char[0]);
            LineReader reader = LineReaderBuilder.builder().terminal(terminal)
                    .parser(SessionCompleter.parser(parser))
                    .completer(new SessionCompleter(client, session))
                    .option(LineReader.Option.INSERT_TAB, true)
                    .build();
            assertThat(reader.readLine("> ")).isEqualTo("y = answer_to_everything + 1");
        }
    }
}
