package io.tether.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Starts a test-classpath main class in a child JVM, as crash tests need. */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** Starts {@code main} with {@code args}; its stderr goes to {@code stderr}. */
    public static Process start(Class<?> main, Path stderr, String... args) throws IOException {
        // sqlite-jdbc extracts its native library to a temp dir and cleans up at exit, which a
        // SIGKILLed child never reaches: extract it next to the test's other files instead
        List<String> command = new ArrayList<>(List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "-Dorg.sqlite.tmpdir=" + stderr.toAbsolutePath().getParent(),
                "-cp", testClassPath(), main.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
    }

    /** Work done while the child still runs (it may throw, to fail the test). */
    @FunctionalInterface
    public interface WhileAlive {
        void run() throws Exception;
    }

    /**
     * Reads the child's acknowledgement lines, one per write it reported done, until
     * {@code acksBeforeKill} arrived; runs {@code whileAlive}; kills the child with SIGKILL
     * and reads what it had written to its end.
     *
     * @param ack takes one line; {@code false} when it is not an acknowledgement
     * @return the lines {@code ack} refused, and any reading failure
     */
    public static List<String> readAcksThenKill(Process child, Path stderr, int acksBeforeKill, Duration wait,
                                         Predicate<String> ack, WhileAlive whileAlive) throws Exception {
        List<String> refused = new CopyOnWriteArrayList<>();
        CountDownLatch enough = new CountDownLatch(acksBeforeKill);
        Thread reader = Thread.ofPlatform().name("child-stdout").daemon(true).start(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (ack.test(line)) {
                        enough.countDown();
                    } else {
                        refused.add(line);
                    }
                }
            } catch (IOException | RuntimeException e) {
                refused.add("reading failed: " + e);
            }
        });
        try {
            assertThat(enough.await(wait.toMillis(), TimeUnit.MILLISECONDS))
                    .as("child acknowledged %d writes; stderr: %s", acksBeforeKill - enough.getCount(),
                            readQuietly(stderr))
                    .isTrue();
            whileAlive.run();
        } finally {
            // Through the handle: Process.destroyForcibly would also close the pipe and drop the
            // acknowledgements still in it.
            child.toHandle().destroyForcibly();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).as("child gone after SIGKILL").isTrue();
        }
        assertThat(reader.join(Duration.ofSeconds(10))).as("child output read to its end").isTrue();
        return refused;
    }

    static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static String testClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }
}
