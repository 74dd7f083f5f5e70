package io.tether.bench.compare;

import io.tether.bench.compare.Results.Factor;
import io.tether.bench.compare.Results.Run;
import io.tether.bench.compare.Stats.Spread;
import java.util.List;
import java.util.Locale;

/** The prose of the generated section: how everything was measured, and how noisy the machine was. */
final class ReportText {
    private ReportText() {
    }

    static String method(CompareOptions o) {
        return String.format(Locale.ROOT, """
                - **One machine, loopback, servers taking turns.** Each run starts Tether, Tether with an \
                empty pool, and the two Jupyter variants afresh, side by side, and drives them from the harness's \
                JVM over 127.0.0.1 in turns: one start each, one block of a tenth of the round trips each, one \
                1 s throughput window each, and so on, so that what else loads the machine meanwhile hits every \
                server alike; the server not being driven is idle. The order of the turns rotates from run to \
                run. Then memory and capacity are measured on each server alone (started afresh, warmed up the \
                same way): other Python processes would take a share of the shared pages' PSS. Every server is \
                stopped with everything it started before the next phase. The Tether server runs in its own JVM, \
                started as users start it (`./tether serve`: the launcher with its JVM options and its \
                ahead-of-time cache), not in the harness's.
                - **Tether**: default settings (token auth, the SQLite store with synchronous FULL, a warm pool of \
                2 Python workers forked from a fork server) except `--idle-timeout none`, and \
                `--python-pool-max-workers 4096` so the capacity run is not stopped by the default of 64. Client: \
                one JDK `HttpClient` (HTTP/1.1, connections kept alive) with the admin bearer token. A session start \
                is `POST /v1/sessions {"runtime": "python"}` then `POST /v1/sessions/{id}/executions {"code": \
                "x = 0"}`; before each one the harness waits, untimed, until the pool holds its 2 idle workers \
                again. The *empty pool* row is a second server with `--python-pool-min-idle 0`: every start forks \
                a worker.
                - **Jupyter Server** (`python3 -m jupyter_server`, Debian's packages) with a token, private \
                temporary config, runtime, data and IPython directories, and the `python3` kernel (ipykernel). A \
                start is `POST /api/kernels`, opening `/api/kernels/{id}/channels` with the JDK WebSocket client, \
                and an `execute_request` (`x = 0`) on the shell channel until its `execute_reply` and the idle \
                status on iopub (messaging protocol 5.3); an execution is timed the same way. Kernels are shut down \
                untimed (`DELETE /api/kernels/{id}`).
                - **Jupyter at its best**: stock Jupyter Server leaves Nagle's algorithm on for kernel websockets. \
                The *TCP_NODELAY* variant loads a `jupyter_server_config.py` that calls tornado's \
                `set_nodelay(True)` on each kernel websocket as it opens (the harness checks it was loaded). Each \
                factor uses the better of the two variants in the same run. Memory does not depend on it: the \
                memory and capacity rows are measured on the TCP_NODELAY server only.
                - **Warm-up**: %d s of executions from %d concurrent sessions on each fresh server before \
                anything is timed (a fresh JVM needs thousands of requests before its JIT has compiled the hot \
                paths, client's and server's), 2 untimed starts before the timed ones, and %d untimed round trips \
                before each latency workload.
                - **Start**: %d timed starts per server; the session is ended untimed after each.
                - **Round trips**: %,d executions per server, one at a time on one warm session, in 10 blocks; \
                median and p99 (nearest rank). Every answer is checked: status ok, the printed line, and the counter's value at the end.
                - **Throughput**: %d sessions per server, a client thread each running `x = x + 1` back to back; \
                executions completed in %d windows of 1 s per server (each after 0.5 s untimed). In that window the harness also reads the CPU time \
                (`/proc/PID/stat`, user + system) of the server with every process below it, and of its own JVM: \
                CPU per execution hardly depends on what else runs on the machine, unlike the rates.
                - **Memory**: the PSS (`/proc/PID/smaps_rollup`) of the warmed-up server with no sessions, and \
                of its helper processes; then idle sessions opened one after another, each ran `x = 0` and \
                printed its pid and working directory (a Tether worker in its own PID namespace is found by the latter); after %d of them and a 1 s pause, the PSS of each session's process (Tether's \
                worker, Jupyter's kernel). PSS divides shared pages among the processes \
                that map them, so the processes' PSS add up to what they use together.
                - **Capacity**: the same growth continued until the PSS of the server and every process below it \
                passed %,d MiB, or %,d sessions; the figure is the most sessions measured within the budget.
                - **Factors**: Jupyter's figure over Tether's for times and memory, Tether's over Jupyter's for \
                throughput and sessions held, computed per run so that what slows the machine during a run slows \
                both sides.
                """, o.warmupSeconds(), o.sessions(), Math.max(10, o.executions() / 10), o.starts(), o.executions(), o.sessions(),
                o.throughputSeconds(), o.memorySessions(), o.budgetMb(), o.cap()) + newer(o);
    }

    /** The method of the lean, Java-client, cold-start and capacity10k rows. */
    private static String newer(CompareOptions o) {
        return String.format(Locale.ROOT, """
                - **Lean clients**: the same round trips of `x = x + 1` (%,d per lane, in 10 blocks taking turns \
                with the other lanes) with the leanest client the harness has on each side. Tether: HTTP/1.1 on \
                a plain `java.net.Socket` kept alive (TCP_NODELAY): the request written as bytes (its JSON body \
                made once), the status line, headers and `Content-Length` body read back, and the answer checked \
                without parsing it (status 200 and `"status":"ok"` in the body). Jupyter: the JDK WebSocket \
                client of the other rows (a hand-written websocket client would save the JDK's framing and \
                dispatch, tens of microseconds against a round trip of milliseconds; every message is parsed \
                as JSON, as the messaging protocol needs to find the reply). The counter's value is checked at \
                the end on every lane.
                - **Tether's Java client** (`tether-client`: `TetherClient.createSession("python")`, then \
                `execute(id, code)` with its defaults): a Tether-only lane in the same turns. The lean and Java \
                client lanes first get %d s of untimed round trips each (at least %d), so that this JVM has \
                compiled their code as it has the `HttpClient` path's in the warm-up; Jupyter's lanes use the \
                client the warm-up already ran.
                - **p99 over median**: the execute row's p99 divided by its median, for each server.
                - **Cold start** (before the timed workloads of each run): a fresh server on a fresh data \
                directory, timed from just before its process is started (Tether: `./tether serve` as above, its \
                ahead-of-time cache made by an untimed launch before the first run; Jupyter: `python3 -m \
                jupyter_server`, stock) until a session was created and its first execution (`x = 0`) answered. \
                The harness polls for the server's readiness every 2 ms (Tether: `server.json`, then \
                `/healthz`) or 5 ms (Jupyter: `/api/status`), then creates the session with the lean client \
                of each side. The figure is the median over the runs, one cold start per server and run.
                - **First executions**: the next %,d round trips of `x = x + 1` in that session right after its \
                first answer, none untimed before them, lean client; their median over the median of the \
                warmed lean round trips of the same run (a server started later in that run and warmed up).
                - **capacity10k** (only with `--workloads capacity10k`; not in a default run): one Tether server \
                with default settings except the limits that would refuse %,d sessions \
                (`--python-pool-max-workers` %,d: the sessions and 16, at most 10,000, the most it accepts; `--pool-owner-share 1`; `max_sessions` is 100,000 and \
                `max_sessions_per_owner` none by default), and its open-file limit set with `prlimit` to %,d \
                (a session holds about 3 of the server's file descriptors: its worker's socket, an eventfd and \
                an epoll instance), or to the harness's hard limit when that is lower (raising a hard limit \
                needs CAP_SYS_RESOURCE; the table shows the limit the server ran with). \
                Sessions are created one after another over one raw HTTP connection, each runs `x = 0`; the \
                harness stops early when the machine's used memory (MemTotal − MemAvailable) reaches %d GiB or a \
                create fails. Then the PSS of the server and every process below it, and the growth of the \
                kernel's own memory (Slab, PageTables, KernelStack in `/proc/meminfo`: each session's \
                namespaces, cgroup and page tables, which no PSS shows; other tenants' use counts in it too) \
                per session; then every session is \
                ended, and the harness waits for each session's processes to be gone. Jupyter does not run it.
                """, o.executions(), leanWarmSeconds(o), Math.max(10, o.executions() / 10), o.firstExecutions(),
                o.capacitySessions(), maxWorkers10k(o), nofile10k(o), o.memoryStopGb());
    }

    /** Untimed seconds of round trips the lean and Java client lanes get first. */
    static int leanWarmSeconds(CompareOptions o) {
        return Math.max(1, o.warmupSeconds() / 3);
    }

    /** The capacity10k server's most Python workers: the sessions and room for the idle pool. */
    static int maxWorkers10k(CompareOptions o) {
        return Math.min(MAX_WORKERS, o.capacitySessions() + 16);
    }

    /** The most {@code python_pool_max_workers} allows: sessions beyond it take the idle pool's workers, then wait. */
    static final int MAX_WORKERS = 10_000;

    /** The capacity10k server's open-file limit: a few per session (each worker's socket) and room. */
    static int nofile10k(CompareOptions o) {
        return Math.max(65_536, o.capacitySessions() * 4 + 4096);
    }

    static String cpus(double c) {
        return Double.isNaN(c) ? "–" : String.format(Locale.ROOT, "%.2f", c);
    }

    static String noise(Results r) {
        StringBuilder b = new StringBuilder();
        double minLoad = r.runs().stream().mapToDouble(x -> Math.min(x.loadBefore(), x.loadAfter())).min().orElse(0);
        double maxLoad = r.runs().stream().mapToDouble(x -> Math.max(x.loadBefore(), x.loadAfter())).max().orElse(0);
        double[] others = r.runs().stream().mapToDouble(Run::otherCpus).filter(c -> !Double.isNaN(c)).toArray();
        b.append(String.format(Locale.ROOT, "The 1-minute load average was %.1f–%.1f at the start and end of the "
                + "timed workloads on %d CPUs (the harness and the servers count in it too)", minLoad, maxLoad,
                Runtime.getRuntime().availableProcessors()));
        if (others.length > 0) {
            Stats.Spread o = Stats.spread(others);
            b.append(String.format(Locale.ROOT, "; other tenants of the machine kept %.2f CPUs busy on average "
                    + "meanwhile (%.2f–%.2f across runs: the machine's non-idle time minus the CPU time of the harness "
                    + "and every process it started)", o.median(), o.min(), o.max()));
        }
        b.append(". ");
        List<String> wide = new java.util.ArrayList<>();
        for (Factor f : Factor.values()) {
            Spread s = r.factor(f);
            if (s != null && s.runs() > 1 && s.wide(0.3)) {
                wide.add(String.format(Locale.ROOT, "%s (%s–%s)", f.key, Report.factor(s.min()), Report.factor(s.max())));
            }
        }
        if (r.runs().size() == 1) {
            b.append("One run only: no spread to report.\n");
        } else if (wide.isEmpty()) {
            b.append("Every factor stayed within ±30 % of its median across the runs.\n");
        } else {
            b.append("Factors that moved by more than 30 % of their median across the runs: ")
                    .append(String.join(", ", wide)).append(".\n");
        }
        return b.toString();
    }
}
