package io.tether.runtime.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.testing.DeviceSim;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A device session's files on real MicroPython: the files API, sync by hash, the working directory mirror. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeviceFilesTest {
    @TempDir
    Path work;
    @TempDir
    Path local;
    private SessionManager manager;
    private Session session;
    private DeviceSession device;

    @BeforeEach
    void start() {
        DeviceRuntime runtime = DeviceRuntime.builder().device("sim", DeviceSim.address()).workRoot(work).build();
        manager = SessionManager.builder().reaperInterval(Duration.ZERO).runtime(runtime).build().start();
        session = manager.create(SessionSpec.builder("alice").runtime("micropython").device("sim").build());
        device = DeviceSession.of(manager, runtime, session.id());
    }

    @AfterEach
    void close() {
        if (manager != null) { // null when the simulator is missing and the test was skipped
            manager.close();
        }
    }

    @Test
    void syncSendsOnlyWhatTheDeviceLacks() throws Exception {
        Files.writeString(local.resolve("main.py"), "print('hi')\n");
        Files.createDirectories(local.resolve("lib"));
        Files.writeString(local.resolve("lib/util.py"), "X = 1\n");

        DeviceSession.SyncReport first = device.sync(local);
        assertThat(first.sent()).containsExactlyInAnyOrder("main.py", "lib/util.py");
        assertThat(first.unchanged()).isEmpty();

        DeviceSession.SyncReport again = device.sync(local);
        assertThat(again.sent()).as("unchanged files are not re-sent").isEmpty();
        assertThat(again.unchanged()).containsExactlyInAnyOrder("main.py", "lib/util.py");

        Files.writeString(local.resolve("main.py"), "print('changed')\n");
        Files.delete(local.resolve("lib/util.py"));
        DeviceSession.SyncReport third = device.sync(local);
        assertThat(third.sent()).containsExactly("main.py");
        assertThat(third.deleted()).containsExactly("lib/util.py");
        assertThat(device.files()).extracting(DeviceSession.DeviceFile::path).containsExactly("main.py");
        assertThat(new String(device.readFile("main.py"), StandardCharsets.UTF_8)).isEqualTo("print('changed')\n");
        assertThat(manager.execute(session.id(), "exec(open('main.py').read())", Duration.ofSeconds(20), null).stdout())
                .isEqualTo("changed\n");
    }

    @Test
    void binaryFilesRoundTripInChunks() {
        byte[] content = new byte[DeviceFiles.CHUNK * 2 + 100];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 7);
        }
        assertThat(device.writeFile("data/blob.bin", content)).isTrue();
        assertThat(device.writeFile("data/blob.bin", content)).as("same content: not sent").isFalse();
        assertThat(device.readFile("data/blob.bin")).isEqualTo(content);
        assertThat(device.files()).singleElement().satisfies(f -> {
            assertThat(f.size()).isEqualTo(content.length);
            assertThat(f.sha256()).isEqualTo(DeviceFiles.sha256(content));
        });
        device.deleteFile("data/blob.bin");
        assertThat(device.files()).isEmpty();
        assertThatThrownBy(() -> device.readFile("data/blob.bin"))
                .isInstanceOfSatisfying(TetherException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }

    @Test
    void badPathsAreRefused() {
        for (String bad : new String[] {"/etc/passwd", "../x", "a/./b", "a//b", ""}) {
            assertThatThrownBy(() -> device.writeFile(bad, new byte[1]))
                    .isInstanceOfSatisfying(TetherException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
        }
    }

    @Test
    void theWorkingDirectoryMirrorsTheDevice() throws Exception {
        Path dir = manager.workingDirectory(session.id()).orElseThrow();
        Files.writeString(dir.resolve("input.txt"), "from the host");
        var read = manager.execute(session.id(), "print(open('input.txt').read())", Duration.ofSeconds(20), null);
        assertThat(read.stdout()).isEqualTo("from the host\n");

        manager.execute(session.id(), "with open('out.txt', 'w') as f:\n    f.write('from the device')",
                Duration.ofSeconds(20), null);
        assertThat(Files.readString(dir.resolve("out.txt"))).isEqualTo("from the device");

        Files.delete(dir.resolve("input.txt"));
        var listed = manager.execute(session.id(), "import os\nprint(sorted(os.listdir()))", Duration.ofSeconds(20), null);
        assertThat(listed.stdout()).isEqualTo("['out.txt']\n");

        manager.execute(session.id(), "import os\nos.remove('out.txt')", Duration.ofSeconds(20), null);
        assertThat(dir.resolve("out.txt")).doesNotExist();
    }
}
