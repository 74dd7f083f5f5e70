package io.tether.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.session.SessionStatus;
import io.tether.store.sqlite.ChildJvm;
import io.tether.store.sqlite.CrashLoadMain;
import io.tether.testing.PostgresServer;
import java.nio.file.Path;
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
 * A node killed ({@code SIGKILL}) in the middle of a write load on the PostgreSQL store: every
 * create and end it acknowledged is in the database, read by another store.
 */
class PostgresCrashTest {
    private static final int ACKS_BEFORE_KILL = 600;
    private static final Pattern ACK = Pattern.compile("([CE]) (w\\d+-\\d+)");

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void everyAcknowledgedWriteOfAKilledNodeIsInTheDatabase() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String database = pg.createDatabase("crash");
        Path childErr = dir.resolve("child.err");
        Process child = ChildJvm.start(CrashLoadMain.class, childErr, pg.url(database), "8", "60000");
        Set<String> created = ConcurrentHashMap.newKeySet();
        Set<String> ended = ConcurrentHashMap.newKeySet();
        List<String> garbage = ChildJvm.readAcksThenKill(child, childErr, ACKS_BEFORE_KILL, Duration.ofSeconds(60),
                line -> {
                    Matcher m = ACK.matcher(line);
                    if (!m.matches()) {
                        return false;
                    }
                    (m.group(1).equals("C") ? created : ended).add(m.group(2));
                    return true;
                }, () -> { });
        assertThat(garbage).isEmpty();
        assertThat(created).hasSizeGreaterThan(ACKS_BEFORE_KILL / 3);
        assertThat(created).containsAll(ended);

        try (PostgresSessionStore store = PostgresSessionStore.builder().url(PostgresUrl.parse(pg.url(database)))
                .build()) {
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
