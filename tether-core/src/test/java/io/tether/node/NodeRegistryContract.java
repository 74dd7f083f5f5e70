package io.tether.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link NodeRegistry} does, whatever it keeps leases in: one suite, run against
 * each registry by a subclass that says how to open an empty one (the in-memory registry
 * here; PostgreSQL in {@code tether-store-jdbc}). Time is the test's: instants far from the
 * wall clock, so a registry that read a clock of its own would fail.
 */
public abstract class NodeRegistryContract {
    private static final Instant T0 = Instant.parse("2001-02-03T04:05:06.123456Z");
    private static final Duration LEASE = Duration.ofSeconds(10);

    /** The registry under test, holding no node at the start of each test. */
    protected NodeRegistry registry;

    /** A registry holding no node; closed after the test when it is {@link AutoCloseable}. */
    protected abstract NodeRegistry openEmpty();

    @BeforeEach
    void open() {
        registry = openEmpty();
    }

    @AfterEach
    void close() throws Exception {
        if (registry instanceof AutoCloseable c) {
            c.close();
        }
    }

    @Test
    void aRegisteredNodeIsFoundWithItsUrlAndLease() {
        registry.register("node-a", "http://10.0.0.5:8080", T0.plus(LEASE));

        assertThat(registry.find("node-a")).contains(new NodeInfo("node-a", "http://10.0.0.5:8080", T0.plus(LEASE)));
        assertThat(registry.find("node-b")).isEmpty();
    }

    @Test
    void registeringAgainReplacesUrlAndLease() {
        registry.register("node-a", "http://10.0.0.5:8080", T0.plus(LEASE));
        registry.register("node-a", "http://10.0.0.9:9090", T0.plus(LEASE).plusSeconds(30));

        assertThat(registry.nodes()).containsExactly(
                new NodeInfo("node-a", "http://10.0.0.9:9090", T0.plus(LEASE).plusSeconds(30)));
    }

    @Test
    void renewExtendsTheLeaseOfARegisteredNodeOnly() {
        registry.register("node-a", "http://a", T0.plus(LEASE));

        assertThat(registry.renew("node-a", T0.plus(LEASE).plusSeconds(5))).isTrue();
        assertThat(registry.find("node-a").orElseThrow().leaseExpiresAt()).isEqualTo(T0.plus(LEASE).plusSeconds(5));
        assertThat(registry.renew("node-b", T0.plus(LEASE))).isFalse();
        assertThat(registry.find("node-b")).isEmpty();
    }

    @Test
    void nodesListsLiveAndLapsedLeases() {
        registry.register("node-a", "http://a", T0.plus(LEASE));
        registry.register("node-b", "http://b", T0.minusSeconds(1));

        assertThat(registry.nodes()).containsExactlyInAnyOrder(
                new NodeInfo("node-a", "http://a", T0.plus(LEASE)),
                new NodeInfo("node-b", "http://b", T0.minusSeconds(1)));
        assertThat(registry.nodes()).filteredOn(n -> n.liveAt(T0)).extracting(NodeInfo::id).containsExactly("node-a");
    }

    @Test
    void aLiveLeaseCannotBeClaimed() {
        registry.register("node-a", "http://a", T0.plus(LEASE));

        assertThat(registry.claim("node-a", T0.plus(LEASE).minusNanos(1_000))).isFalse();
        assertThat(registry.find("node-a")).isPresent();
        assertThat(registry.claim("node-x", T0.plus(LEASE))).as("an unknown node").isFalse();
    }

    @Test
    void aLapsedLeaseIsClaimedOnceAndItsRenewalThenFails() {
        registry.register("node-a", "http://a", T0.plus(LEASE));
        registry.register("node-b", "http://b", T0.plus(LEASE).plusSeconds(60));

        assertThat(registry.claim("node-a", T0.plus(LEASE))).as("at the instant it lapses").isTrue();
        assertThat(registry.claim("node-a", T0.plus(LEASE))).as("a second claim").isFalse();
        assertThat(registry.find("node-a")).isEmpty();
        assertThat(registry.renew("node-a", T0.plus(LEASE).plusSeconds(10)))
                .as("the lost node's next heartbeat learns it lost its lease").isFalse();
        assertThat(registry.find("node-b")).as("other nodes untouched").isPresent();

        registry.register("node-a", "http://a", T0.plus(LEASE).plusSeconds(20));
        assertThat(registry.renew("node-a", T0.plus(LEASE).plusSeconds(30))).as("after joining again").isTrue();
    }

    @Test
    void racingClaimsOfOneLapsedLeaseHaveExactlyOneWinner() throws Exception {
        int rounds = 20;
        int racers = 8;
        ExecutorService threads = Executors.newFixedThreadPool(racers);
        try {
            for (int round = 0; round < rounds; round++) {
                String id = "node-" + round;
                registry.register(id, "http://lost", T0);
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Boolean>> claims = new ArrayList<>();
                for (int i = 0; i < racers; i++) {
                    Callable<Boolean> claim = () -> {
                        start.await();
                        return registry.claim(id, T0.plusSeconds(1));
                    };
                    claims.add(threads.submit(claim));
                }
                start.countDown();
                int won = 0;
                for (Future<Boolean> f : claims) {
                    won += f.get() ? 1 : 0;
                }
                assertThat(won).as("winners of round %d", round).isEqualTo(1);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void releaseRemovesTheNodeAtOnceAndIgnoresAnUnknownOne() {
        registry.register("node-a", "http://a", T0.plus(LEASE));
        registry.register("node-b", "http://b", T0.plus(LEASE));

        registry.release("node-a");
        registry.release("node-x");

        assertThat(registry.nodes()).extracting(NodeInfo::id).containsExactly("node-b");
        assertThat(registry.renew("node-a", T0.plus(LEASE))).isFalse();
    }
}
