package io.tether.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.session.EndReason;
import io.tether.session.Session;
import io.tether.session.SessionManager;
import io.tether.session.SessionStatus;
import io.tether.store.SessionQuery;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole engine killed mid-load: a session manager over SQLite in a child JVM gets
 * {@code SIGKILL}; a new manager on the same directory must find every acknowledged
 * create, update and end, keep plain sessions active and end those that had a worker
 * (an in-process echo runtime here) as node_lost. Execution history, written behind, may
 * lose its last flush interval, but what it kept is intact.
 */
class ManagerCrashTest {
    private static final int ACKS_BEFORE_KILL = 1_500;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aKilledManagerLosesNothingItAcknowledged() throws Exception {
        Path childErr = dir.resolve("child.err");
        Path data = dir.resolve("data");
        Process child = ChildJvm.start(ManagerCrashLoadMain.class, childErr, data.toString(), "6", "60000");
        Set<String> plain = ConcurrentHashMap.newKeySet();
        Set<String> python = ConcurrentHashMap.newKeySet();
        Set<String> ended = ConcurrentHashMap.newKeySet();
        Map<String, Long> updated = new ConcurrentHashMap<>();
        List<String> garbage = ChildJvm.readAcksThenKill(child, childErr, ACKS_BEFORE_KILL, Duration.ofSeconds(60),
                line -> {
                    String[] f = line.split(" ");
                    switch (f[0]) {
                        case "C" -> plain.add(f[1]);
                        case "P" -> python.add(f[1]);
                        case "E" -> ended.add(f[1]);
                        case "U" -> updated.merge(f[1], Long.parseLong(f[2]), Math::max);
                        default -> {
                            return false;
                        }
                    }
                    return true;
                }, () -> { });
        assertThat(garbage).isEmpty();
        assertThat(python).isNotEmpty();
        assertThat(ended).isNotEmpty();

        try (SessionManager m = SessionManager.builder()
                .store(SqliteSessionStore.builder().dataDirectory(data).build())
                .reaperInterval(Duration.ZERO).build().start()) {
            for (String id : plain) {
                Session s = m.get(id);
                if (ended.contains(id)) {
                    assertThat(s.status()).as("acknowledged end of %s", id).isEqualTo(SessionStatus.ENDED);
                } else {
                    assertThat(s.status()).as("plain %s", id).isIn(SessionStatus.ACTIVE, SessionStatus.ENDED);
                }
                if (updated.containsKey(id)) {
                    assertThat((Long) s.data().get("n")).as("acknowledged update of %s", id)
                            .isEqualTo(updated.get(id));
                }
            }
            for (String id : python) {
                Session s = m.get(id);
                assertThat(s.status()).isEqualTo(SessionStatus.ERROR);
                assertThat(s.endReason()).isEqualTo(EndReason.NODE_LOST);
                m.execution(id, 1).ifPresent(e -> {
                    assertThat(e.code()).isEqualTo("P " + id);
                    assertThat(e.result().stdout()).isEqualTo("P " + id);
                });
            }
            long activeInStore = 0;
            SessionQuery q = SessionQuery.all().withStatus(SessionStatus.ACTIVE).withLimit(1000);
            for (var page = m.list(q); ; page = m.list(q)) {
                activeInStore += page.items().size();
                assertThat(page.items()).allSatisfy(s -> assertThat(s.runtime()).isEqualTo("none"));
                if (!page.hasNext()) {
                    break;
                }
                q = q.after(page.nextCursor());
            }
            assertThat(m.stats().active()).isEqualTo(activeInStore);
        }
    }
}
