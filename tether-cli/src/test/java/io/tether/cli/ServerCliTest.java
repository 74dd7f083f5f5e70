package io.tether.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.server.ServerConfig;
import io.tether.server.Settings;
import io.tether.server.TetherServer;
import io.tether.client.ExecutionStatus;
import io.tether.client.TetherClient;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against a real server (Python sessions, no auth) started on a free port. */
class ServerCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SESSION_LINE = Pattern.compile("session: (\\S+)");

    @TempDir
    static Path dataDir;

    private static TetherServer server;

    @BeforeAll
    static void startServer() {
        openToTheJail(dataDir);
        server = TetherServer.start(ServerConfig.from(Settings.resolve(Map.of("port", "0",
                "data_dir", dataDir.toString(), "auth", "none", "runtimes", "python",
                "python_pool_min_idle", "1", "jshell_pool_min_idle", "0"), Map.of(), null)));
    }

    /** A JUnit temporary directory is 0700; the sandbox's jail user must pass it to reach the data directory. */
    static void openToTheJail(Path dir) {
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    record Result(int exit, String out, String err) {
        @SuppressWarnings("unchecked")
        Map<String, Object> json() throws Exception {
            return JSON.readValue(out, Map.class);
        }

        String session() {
            Matcher m = SESSION_LINE.matcher(err);
            assertThat(m.find()).as("a session line in: " + err).isTrue();
            return m.group(1);
        }
    }

    /** Runs the CLI on the server's data directory (so it finds the server by its server.json). */
    private static Result tether(String stdin, String... args) {
        return tether(Map.of(), new StringWriter(), stdin, args);
    }

    private static Result tether(Map<String, String> extraEnv, StringWriter out, String stdin, String... args) {
        StringWriter err = new StringWriter();
        Map<String, String> env = new HashMap<>(Map.of("TETHER_DATA_DIR", dataDir.toString()));
        env.putAll(extraEnv);
        int exit = TetherCli.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintWriter(out, true), new PrintWriter(err, true), env);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void execRunsCodeFromItsArgumentOrStdinAndReusesTheSessionItPrints() {
        Result first = tether("", "exec", "x = 20");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).isEmpty();
        String id = first.session();

        Result fromStdin = tether("x += 1\nx * 2\n", "exec", "--session", id);
        assertThat(fromStdin.exit()).as(fromStdin.err()).isZero();
        assertThat(fromStdin.out()).isEqualTo("42\n");
        assertThat(fromStdin.err()).as("no new session announced").isEmpty();
        assertThat(tether("print(x)", "exec", "--session", id, "-").out()).isEqualTo("21\n");
    }

    @Test
    void execExitsOneWhenTheCodeFailsAndWithTheProblemsCodeWhenTheServerRefuses() {
        Result failed = tether("", "exec", "print('before')\n1 / 0");
        assertThat(failed.exit()).isEqualTo(1);
        assertThat(failed.out()).isEqualTo("before\n");
        assertThat(failed.err()).contains("Traceback").contains("ZeroDivisionError: division by zero");

        Result missing = tether("", "exec", "--session", "no-such-session", "1");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.err()).contains("session_not_found").contains("no-such-session");

        Result nobody = tether("", "exec", "--url", "http://127.0.0.1:1", "1");
        assertThat(nobody.exit()).isEqualTo(TetherCli.UNREACHABLE);
        assertThat(nobody.err()).contains("no Tether server answers at http://127.0.0.1:1")
                .contains("./tether serve");
    }

    @Test
    void execStreamsOutputWhileTheCodeRuns() {
        TimedWriter out = new TimedWriter("tick");
        Result r = tether(Map.of(), out, "", "exec", String.join("\n",
                "import sys, time",
                "print('tick', flush=True)",
                "time.sleep(0.8)",
                "print('tock')",
                "sys.stderr.write('warn\\n')",
                "7"));
        long returned = System.nanoTime();
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("tick\ntock\n7\n");
        assertThat(r.err()).contains("warn\n");
        assertThat(out.seenAt).as("'tick' was written").isNotZero();
        assertThat((returned - out.seenAt) / 1_000_000).as("ms between tick and the end").isGreaterThan(400);
    }

    @Test
    void ctrlCOnExecInterruptsTheCodeOnTheServerAndExits130() throws Exception {
        List<String> command = List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "io.tether.cli.TetherCli", "exec", "--url", server.url(),
                "import time\nprint('sleeping', flush=True)\ntime.sleep(60)");
        Process cli = new ProcessBuilder(command).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("sleeping"); // the code runs
            BufferedReader err = new BufferedReader(new InputStreamReader(cli.getErrorStream(), StandardCharsets.UTF_8));
            Matcher session = SESSION_LINE.matcher(err.readLine());
            assertThat(session.find()).isTrue();
            assertThat(new ProcessBuilder("kill", "-INT", Long.toString(cli.pid())).start().waitFor()).isZero();
            assertThat(cli.waitFor(30, TimeUnit.SECONDS)).as("exec exits after Ctrl-C").isTrue();
            assertThat(cli.exitValue()).isEqualTo(130);
            assertThat(err.lines().toList()).contains("tether: interrupted the execution in session " + session.group(1));
            try (TetherClient client = TetherClient.builder().baseUrl(server.url()).build()) {
                assertThat(client.execution(session.group(1), 1).status()).isEqualTo(ExecutionStatus.INTERRUPTED);
                client.endSession(session.group(1));
            }
        } finally {
            cli.destroyForcibly();
        }
    }

    @Test
    void execJsonPrintsTheFinishedExecution() throws Exception {
        Result r = tether("", "exec", "--json", "--timeout", "30", "print('hi')\n6 * 7");
        assertThat(r.exit()).as(r.err()).isZero();
        Map<String, Object> e = r.json();
        assertThat(e).containsEntry("status", "ok").containsEntry("stdout", "hi\n")
                .containsEntry("result", Map.of("text/plain", "42", "application/json", 42))
                .containsEntry("session_id", r.session());
    }

    @Test
    void execSavesDisplayedImagesToFilesAndPrintsTextForTheRest(@TempDir Path images) throws Exception {
        Path dir = images.resolve("plots");
        Result r = tether("", "exec", "--output-dir", dir.toString(), String.join("\n",
                "import matplotlib.pyplot as plt",
                "print('a')",
                "plt.figure(figsize=(2, 1), dpi=100)",
                "plt.plot([1, 2])",
                "plt.show()",
                "display('hello')",
                "plt.figure(figsize=(1, 1), dpi=50)"));
        assertThat(r.exit()).as(r.err()).isZero();
        String id = r.session();
        Path first = dir.resolve(id + "-1-1.png");
        Path second = dir.resolve(id + "-1-2.png");
        assertThat(r.out()).isEqualTo("a\n[image/png, " + Files.size(first) + " bytes: " + first + "]\n'hello'\n"
                + "[image/png, " + Files.size(second) + " bytes: " + second + "]\n<Figure size 50x50 with 0 Axes>\n");
        java.awt.image.BufferedImage plot = javax.imageio.ImageIO.read(first.toFile());
        assertThat(plot.getWidth()).isEqualTo(200);
        assertThat(plot.getHeight()).isEqualTo(100);
        assertThat(javax.imageio.ImageIO.read(second.toFile()).getWidth()).isEqualTo(50);

        Result json = tether("", "exec", "--json", "--session", id, "display(1)\nprint('b')");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> outputs = (List<Map<String, Object>>) json.json().get("outputs");
        assertThat(outputs).extracting(o -> o.get("output_type")).containsExactly("display_data", "stream");

        Path notADirectory = Files.writeString(images.resolve("file"), "x");
        Result unsaved = tether("", "exec", "--session", id, "--output-dir", notADirectory.toString(),
                "plt.plot([1]); plt.show()");
        assertThat(unsaved.exit()).isZero();
        assertThat(unsaved.err()).contains("tether: cannot save an image in " + notADirectory + " (");
        assertThat(unsaved.out()).startsWith("<Figure size 640x480");
        assertThat(Files.readString(notADirectory)).isEqualTo("x");
    }

    @Test
    void replSavesImagesOfEachExecutionUnderItsNumber(@TempDir Path images) throws Exception {
        Result r = tether(String.join("\n",
                "import matplotlib.pyplot as plt",
                "plt.figure(figsize=(1, 1), dpi=40); plt.plot([1, 2]); plt.show()",
                "import pandas as pd",
                "pd.DataFrame({'city': ['Oslo']})",
                ""), "repl", "python", "--output-dir", images.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        String id = r.err().replaceAll("(?s).*python session (\\S+) on .*", "$1");
        Path plot = images.resolve(id + "-2-1.png");
        assertThat(r.out()).startsWith("[image/png, " + Files.size(plot) + " bytes: " + plot + "]\n")
                .contains("city").contains("Oslo").doesNotContain("<table");
        assertThat(javax.imageio.ImageIO.read(plot.toFile()).getHeight()).isEqualTo(40);
    }

    @Test
    void replKeepsStateAcrossLinesRunsMultiLineDefinitionsAndEndsItsSession() throws Exception {
        Result r = tether(String.join("\n",
                "x = 1",
                "x + 1",
                "def double(a):",
                "    if a:",
                "        return a * 2",
                "",
                "double(x + 20)",
                "undefined_name",
                "print(x)",
                ""), "repl", "python");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("2\n42\n1\n");
        assertThat(r.err()).contains("NameError");
        String id = r.err().replaceAll("(?s).*python session (\\S+) on .*", "$1");
        assertThat(tether("", "sessions", "show", id, "--json").json()).containsEntry("status", "ended");
    }

    @Test
    void replAnswersInputRequestsWithTheNextLineOfAPipe() throws Exception {
        Result r = tether(String.join("\n",
                "name = input('Name? ')",
                "Ada",
                "print('hi ' + name)",
                "import getpass; len(getpass.getpass())",
                "s3cret",
                ""), "repl", "python");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("hi Ada\n6\n");
    }

    @Test
    void execReadsItsStdinTextThenAnswersFromStdinOrInterruptsWhenItHoldsTheCode(@TempDir Path dir)
            throws Exception {
        Path text = dir.resolve("input.txt");
        Files.writeString(text, "one\ntwo\n");
        Result fromFile = tether("", "exec", "--stdin", text.toString(), "print(input() + input())");
        assertThat(fromFile.exit()).as(fromFile.err()).isZero();
        assertThat(fromFile.out()).isEqualTo("onetwo\n");

        Result answered = tether("Bob\n", "exec", "print('hello', input('who? '))");
        assertThat(answered.exit()).as(answered.err()).isZero();
        assertThat(answered.out()).isEqualTo("hello Bob\n");

        Result fromPipe = tether("x = 1\ninput()\n", "exec");
        assertThat(fromPipe.exit()).isEqualTo(1);
        assertThat(fromPipe.err()).contains("asked for input").contains("--stdin");

        Result plain = tether("", "exec", "--json", "input()");
        assertThat(plain.exit()).isEqualTo(1);
        assertThat(plain.out()).contains("EOFError");
        Result json = tether("", "exec", "--json", "--stdin", text.toString(), "input()");
        assertThat(json.json()).containsEntry("result", Map.of("text/plain", "'one'", "application/json", "one"));
    }

    @Test
    void sessionsAndStatsCallTheServerThatRunsOnTheDataDirectory(@TempDir Path elsewhere) throws Exception {
        Map<String, Object> created = tether("", "sessions", "create", "--owner", "carol", "--json").json();
        String id = (String) created.get("id");
        assertThat(created).containsEntry("owner", "carol").containsEntry("runtime", "none");

        assertThat(tether("", "sessions", "ls", "--owner", "carol").out()).contains(id).contains("carol");
        Map<String, Object> listed = tether("", "sessions", "ls", "--owner", "carol", "--json").json();
        assertThat(listed).containsEntry("next_cursor", null).containsKey("items").doesNotContainKey("sessions");
        assertThat(tether("", "sessions", "show", id).out()).contains("owner             carol");
        Map<String, Object> ended = tether("", "sessions", "end", id, "--reason", "done", "--json").json();
        assertThat(ended).containsEntry("status", "ended").containsEntry("end_reason", "done");
        assertThat(tether("", "sessions", "show", "nope").exit()).isEqualTo(3);

        Map<String, Object> stats = tether("", "stats", "--json").json();
        assertThat(stats).containsKeys("active", "total_created", "ended_by_reason", "active_by_owner", "executing");
        assertThat(stats.get("ended_by_reason")).asInstanceOf(InstanceOfAssertFactories.MAP).containsEntry("done", 1);

        // A data directory without a server: the local store, unless a URL names the server.
        Map<String, String> env = Map.of("TETHER_DATA_DIR", elsewhere.toString());
        assertThat(tether(env, new StringWriter(), "", "stats", "--json").json()).containsEntry("total_created", 0);
        assertThat(tether(env, new StringWriter(), "", "stats", "--json", "--url", server.url()).json())
                .containsEntry("ended_by_reason", stats.get("ended_by_reason"));
    }

    /** Remembers when a text first appeared in what was written. */
    private static final class TimedWriter extends StringWriter {
        private final String text;
        volatile long seenAt;

        TimedWriter(String text) {
            this.text = text;
        }

        @Override
        public void write(String s, int off, int len) {
            super.write(s, off, len);
            if (seenAt == 0 && toString().contains(text)) {
                seenAt = System.nanoTime();
            }
        }

        @Override
        public void write(char[] c, int off, int len) {
            super.write(c, off, len);
            if (seenAt == 0 && toString().contains(text)) {
                seenAt = System.nanoTime();
            }
        }
    }
}
