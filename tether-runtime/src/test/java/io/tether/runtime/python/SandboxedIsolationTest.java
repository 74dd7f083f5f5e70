package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every thread of a sandboxed worker is confined before user code runs: Landlock and
 * capabilities belong to a thread, not a process, so the worker's output thread, started
 * before the request, must confine itself too. User code can make that thread run its code
 * (here by replacing a method it calls), so a thread left out would be a way out: to other
 * sessions' working directories, and with every capability of the session's user namespace.
 */
class SandboxedIsolationTest extends PythonRuntimeFixture {
    private static final String PROBE = String.join("\n",
            "import os, sys, _thread, time",
            "def probe(paths):",
            "    found = {}",
            "    with open('/proc/thread-self/status') as f:",
            "        for line in f:",
            "            k, _, v = line.partition(':')",
            "            if k in ('CapEff', 'CapPrm', 'CapBnd', 'NoNewPrivs'):",
            "                found[k] = v.strip()",
            "    for p in paths:",
            "        try:",
            "            os.listdir(p)",
            "            found[p] = 'listed'",
            "        except PermissionError:",
            "            found[p] = 'refused'",
            "        except FileNotFoundError:",
            "            found[p] = 'missing'",
            "    return found",
            "seen = {'main': probe(PATHS)}",
            "done = _thread.allocate_lock(); done.acquire()",
            "def other():",
            "    seen['user thread'] = probe(PATHS); done.release()",
            "_thread.start_new_thread(other, ())",
            "done.acquire()",
            // The worker's output thread calls Stream.forward for what user code writes.
            "stream = sys.modules['__main__'].Stream",
            "original = stream.forward",
            "def forward(self, data, final=False):",
            "    if 'output thread' not in seen and _thread.get_ident() != MAIN:",
            "        seen['output thread'] = probe(PATHS)",
            "    return original(self, data, final)",
            "MAIN = _thread.get_ident()",
            "stream.forward = forward",
            "try:",
            "    deadline = time.monotonic() + 10",
            "    while 'output thread' not in seen and time.monotonic() < deadline:",
            "        os.write(1, b'.')",
            "        time.sleep(0.01)",
            "finally:",
            "    stream.forward = original",
            "seen");

    @Override
    boolean sandboxed() {
        return true;
    }

    @Test
    void everyThreadIsConfinedBeforeUserCodeRuns() {
        WorkerOptions options = new WorkerOptions(WorkerLimits.DEFAULTS);
        try (Worker worker = runtime.start(options); Worker other = runtime.start(options)) {
            String root = runtime.sandbox().inJail(worker.workingDirectory()).getParent().toString();
            String others = runtime.sandbox().inJail(other.workingDirectory()).toString();
            String code = "PATHS = [" + quote(root) + ", " + quote(others) + "]\n" + PROBE;
            ExecutionResult r = worker.execute(new ExecutionRequest(1, code, Duration.ofSeconds(30)),
                    OutputListener.NONE);
            assertThat(r.status()).as("%s", r).isEqualTo(ExecutionStatus.OK);
            @SuppressWarnings("unchecked")
            Map<String, Map<String, String>> seen = (Map<String, Map<String, String>>) r.result().get("application/json");
            assertThat(seen).containsOnlyKeys("main", "user thread", "output thread");
            seen.forEach((thread, found) -> {
                assertThat(found).as(thread).containsEntry("CapEff", "0000000000000000")
                        .containsEntry("CapPrm", "0000000000000000").containsEntry("CapBnd", "0000000000000000")
                        .containsEntry("NoNewPrivs", "1");
                for (String path : List.of(root, others)) {
                    assertThat(found.get(path)).as("%s lists %s", thread, path).isIn("refused", "missing");
                }
            });
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
