package io.tether.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One owner cannot take every worker of a pool: past its share its creates are refused at
 * once, and another owner is served at once instead of waiting for a worker that never frees.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerShareTest {
    @TempDir
    Path dataDir;

    @Test
    void anOwnerAtItsShareIsRefusedAtOnceAndAnotherOwnerIsServed() {
        try (TetherServer server = Api.start(dataDir, Map.of("auth", "none", "python_pool_max_workers", "4",
                "python_pool_min_idle", "0", "pool_acquire_timeout", "30s"))) {
            Api api = new Api(server.url(), null);
            List<Integer> greedy = new ArrayList<>();
            List<Long> refusedMillis = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                long began = System.nanoTime();
                Api.Reply r = api.post("/v1/sessions", Map.of("runtime", "python", "owner", "greedy"));
                greedy.add(r.status());
                if (r.status() != 201) {
                    assertThat(r.code()).isEqualTo("limit_exceeded");
                    assertThat(r.json().get("detail").toString()).contains("greedy").contains("python");
                    refusedMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
                }
            }
            assertThat(greedy).as("half of the 4 python workers, the default share").containsExactly(201, 201, 429, 429);
            assertThat(refusedMillis).as("refused without waiting for the pool").allSatisfy(ms -> assertThat(ms)
                    .isLessThan(5_000));

            long began = System.nanoTime();
            Api.Reply other = api.post("/v1/sessions", Map.of("runtime", "python", "owner", "other"));
            assertThat(other.status()).as("another owner's create: %s", other.body()).isEqualTo(201);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began)).isLessThan(5_000);
        }
    }
}
