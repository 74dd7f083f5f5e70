package io.tether.runtime.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.python.PythonRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxSmokeTest {
    @TempDir
    Path dir;

    @Test
    void smoke() throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Sandbox sandbox = Sandbox.builder().hide(java.util.List.of(dir)).build();
        System.out.println(sandbox.summary());
        Files.writeString(dir.resolve("admin-token"), "secret");
        for (boolean fork : new boolean[] {true, false}) {
            try (PythonRuntime rt = PythonRuntime.builder().workRoot(dir.resolve("work")).forkServer(fork).sandbox(sandbox).build()) {
                Worker w = rt.start(WorkerOptions.DEFAULTS);
                Worker w2 = rt.start(WorkerOptions.DEFAULTS);
                String code = "import os\nr = {}\n"
                        + "def t(k, f):\n    try:\n        r[k] = repr(f())[:200]\n    except BaseException as e:\n        r[k] = 'REFUSED ' + repr(e)[:150]\n"
                        + "t('token', lambda: open('" + dir.resolve("admin-token") + "').read())\n"
                        + "t('proc', lambda: sorted(os.listdir('/proc'))[:8])\n"
                        + "t('other', lambda: os.listdir('" + w2.workingDirectory() + "'))\n"
                        + "t('root', lambda: os.listdir('" + dir.resolve("work") + "'))\n"
                        + "t('net', lambda: __import__('socket').create_connection(('127.0.0.1', 22), 1))\n"
                        + "t('write', lambda: open('x', 'w').write('hi'))\n"
                        + "t('kill1', lambda: os.kill(1, 0))\n"
                        + "t('tmp', lambda: open('/tmp/y', 'w').write('hi'))\n"
                        + "t('cwd', lambda: os.getcwd())\n"
                        + "t('uid', lambda: (os.getuid(), os.getpid(), os.getppid()))\n"
                        + "t('shadow', lambda: open('/etc/shadow').read())\n"
                        + "r";
                long t0 = System.nanoTime();
                ExecutionResult res = w.execute(new ExecutionRequest(1, code, Duration.ofSeconds(20)), OutputListener.NONE);
                System.out.println("fork=" + fork + " " + res.status() + " " + res.result() + " " + res.error() + " " + res.stdout() + res.stderr());
                w.close();
                w2.close();
            }
        }
    }
}
