package io.tether.cli;

import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.OutputListener;
import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionSpec;
import io.tether.session.SessionStats;
import io.tether.store.SessionQuery;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/**
 * {@code tether demo}: a short tour of the session engine on the embedded store. Sessions
 * it leaves active are still there on the next run, which is the point.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "A short tour: create, reuse, touch, update, end and list sessions.")
final class DemoCommand extends SessionsCommand.StoreCommand {
    @Override
    void run(SessionManager manager, Output out, Path dataDir) {
        out.line("Tether demo: embedded SQLite store in " + dataDir.toAbsolutePath().normalize());
        long before = manager.stats().active();
        if (before > 0) {
            out.line("found " + before + " active sessions from earlier runs (they survived the restart)");
        }

        Session cart = manager.create(SessionSpec.builder("alice").data(Map.of("cart", List.of())).build());
        out.line("created  " + cart.id() + "  owner=alice data=" + Output.text(cart.data()));
        for (int i = 0; i < 3; i++) {
            manager.touch(cart.id());
        }
        Session updated = manager.update(cart.id(), Map.of("cart", List.of("book")), Map.of("channel", "web"));
        out.line("updated  " + cart.id() + "  data=" + Output.text(updated.data()) + " interactions=" + updated.interactionCount());

        SessionSpec chat = SessionSpec.builder("bob").key("support-chat").build();
        Session first = manager.getOrCreate(chat);
        Session again = manager.getOrCreate(chat);
        out.line("get-or-create  " + first.id() + "  owner=bob key=support-chat; second call "
                + (again.id().equals(first.id()) ? "reused it" : "made another (unexpected)"));

        String scratch = manager.withSession(SessionSpec.of("alice"), Session::id);
        out.line("ran a block in " + scratch + ", then it ended: " + manager.get(scratch).status().wireName());

        Session ended = manager.end(cart.id(), EndReason.MANUAL);
        out.line("ended    " + ended.id() + "  reason=" + ended.endReason());

        pythonTour(manager, out);

        out.line("");
        out.line("active sessions:");
        out.sessions(manager.list(SessionQuery.all().withStatus(io.tether.session.SessionStatus.ACTIVE)).items().stream()
                .map(ApiJson::session).toList(), null);
        SessionStats s = manager.stats();
        out.line("");
        out.line("stats: active=" + s.active() + " created=" + s.totalCreated() + " ended=" + Output.text(s.endedByReason()));
        out.line("");
        out.line("Next: ./tether sessions ls --all    ./tether sessions show ID    ./tether --help");
    }

    @Override
    boolean withPython() {
        return true;
    }

    /** A live interpreter: state that persists between executions, then a clean end. */
    private static void pythonTour(SessionManager manager, Output out) {
        Session py;
        try {
            py = manager.create(SessionSpec.builder("alice").runtime("python").build());
        } catch (TetherException e) {
            out.line("python   (skipped: " + e.getMessage() + ")");
            return;
        }
        try {
            manager.execute(py.id(), "import math\nradius = 2", TIMEOUT, OutputListener.NONE);
            manager.execute(py.id(), "def area(r):\n    return math.pi * r * r", TIMEOUT, OutputListener.NONE);
            ExecutionResult r = manager.execute(py.id(), "print('computing...')\nround(area(radius), 3)", TIMEOUT,
                    OutputListener.NONE);
            out.line("python   " + py.id() + "  radius = 2; def area(r); area(radius) -> "
                    + r.result().get("text/plain") + " (stdout: " + r.stdout().strip() + ", "
                    + r.duration().toNanos() / 1000 + " us)");
        } finally {
            manager.end(py.id(), EndReason.MANUAL);
        }
        out.line("python   " + py.id() + "  ended; its interpreter process is gone");
    }

    private static final java.time.Duration TIMEOUT = java.time.Duration.ofSeconds(30);
}
