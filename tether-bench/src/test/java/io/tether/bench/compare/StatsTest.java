package io.tether.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.bench.compare.Stats.Latency;
import io.tether.bench.compare.Stats.Spread;
import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void latencyQuantilesAreNearestRankInMilliseconds() {
        long[] nanos = new long[100];
        for (int i = 0; i < 100; i++) {
            nanos[i] = (100 - i) * 1_000_000L; // 100 ms down to 1 ms, unsorted on purpose
        }
        Latency l = Stats.latency(nanos);

        assertThat(l.count()).isEqualTo(100);
        assertThat(l.medianMs()).isEqualTo(50);
        assertThat(l.p99Ms()).isEqualTo(99);
        assertThat(l.maxMs()).isEqualTo(100);
    }

    @Test
    void withFewSamplesP99IsTheLargest() {
        Latency l = Stats.latency(new long[] {3_000_000, 1_000_000, 2_000_000});

        assertThat(l.medianMs()).isEqualTo(2);
        assertThat(l.p99Ms()).isEqualTo(3);
    }

    @Test
    void spreadOfAnEvenCountTakesTheMiddleTwo() {
        Spread s = Stats.spread(4, 1, 3, 2);

        assertThat(s.median()).isEqualTo(2.5);
        assertThat(s.min()).isEqualTo(1);
        assertThat(s.max()).isEqualTo(4);
        assertThat(s.wide(0.3)).isTrue();
        assertThat(Stats.spread(10, 11, 12).wide(0.3)).isFalse();
    }

    @Test
    void nothingToSummarizeIsAnError() {
        assertThatThrownBy(() -> Stats.latency(new long[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(Stats::spread).isInstanceOf(IllegalArgumentException.class);
    }
}
