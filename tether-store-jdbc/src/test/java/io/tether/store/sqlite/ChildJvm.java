package io.tether.store.sqlite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a test-classpath main class in a child JVM, as crash tests need. */
final class ChildJvm {
    private ChildJvm() {
    }

    /** Starts {@code main} with {@code args}; its stderr goes to {@code stderr}. */
    static Process start(Class<?> main, Path stderr, String... args) throws IOException {
        // sqlite-jdbc extracts its native library to a temp dir and cleans up at exit, which a
        // SIGKILLed child never reaches: extract it next to the test's other files instead
        List<String> command = new ArrayList<>(List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "-Dorg.sqlite.tmpdir=" + stderr.toAbsolutePath().getParent(),
                "-cp", testClassPath(), main.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
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
