package io.tether.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.TetherException;
import io.tether.session.SessionStatus;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process in the middle of a write load ({@code SIGKILL}, no shutdown hooks) and checks
 * that the file is intact and holds every write the process acknowledged.
 */
class CrashRecoveryTest {
    private static final int ACKS_BEFORE_KILL = 2_000;
    private static final Pattern ACK = Pattern.compile("([CE]) (w\\d+-\\d+)");

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void everyAcknowledgedWriteSurvivesAKilledProcess() throws Exception {
        Path file = dir.resolve("crash.db");
        Path childErr = dir.resolve("child.err");
        Process child = ChildJvm.start(CrashLoadMain.class, childErr, file.toString(), "8", "50000");
        Set<String> created = ConcurrentHashMap.newKeySet();
        Set<String> ended = ConcurrentHashMap.newKeySet();
        List<String> garbage = ChildJvm.readAcksThenKill(child, childErr, ACKS_BEFORE_KILL, Duration.ofSeconds(40),
                line -> {
                    Matcher m = ACK.matcher(line);
                    if (!m.matches()) {
                        return false;
                    }
                    (m.group(1).equals("C") ? created : ended).add(m.group(2));
                    return true;
                },
                () -> assertThatThrownBy(() -> SqliteSessionStore.builder().file(file).build())
                        .isInstanceOf(TetherException.class)
                        .hasMessageContaining("already open in another process"));
        assertThat(garbage).isEmpty();
        assertThat(created).hasSizeGreaterThan(ACKS_BEFORE_KILL / 3);
        assertThat(created).containsAll(ended);

        try (Connection c = TestSessions.rawConnection(file); Statement s = c.createStatement()) {
            assertThat(SqliteFile.queryText(s, "PRAGMA integrity_check")).isEqualTo("ok");
        }
        try (SqliteSessionStore store = SqliteSessionStore.builder().file(file).build()) {
            for (String id : created) {
                assertThat(store.find(id)).as("acknowledged create of %s", id).isPresent();
            }
            for (String id : ended) {
                assertThat(store.find(id).orElseThrow().status()).as("acknowledged end of %s", id)
                        .isEqualTo(SessionStatus.ENDED);
            }
        }
    }
}
