package io.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CapacityEstimateTest {
    private static final long MB = 1L << 20;
    private static final long GB24 = 24L << 30;

    @Test
    void capacityIsTheBudgetOverTheSessionsOwnPssEach() {
        // 50 sessions measuring 75 MB together: 1.5 MB each, 16,384 in 24 GB.
        assertThat(CapacityEstimate.sessions(GB24, 75 * MB, 50)).hasValue(16_384);
        assertThat(CapacityEstimate.text(GB24, 75 * MB, 50))
                .isEqualTo("~16,384 (estimate: 1.50 MB PSS per session)");
    }

    @Test
    void aFigureThatWasNotMeasuredIsSaidSoNeverPrintedNegative() {
        assertThat(CapacityEstimate.sessions(GB24, 0, 50)).isEmpty();
        assertThat(CapacityEstimate.sessions(GB24, -5 * MB, 50)).isEmpty();
        assertThat(CapacityEstimate.sessions(GB24, 75 * MB, 0)).isEmpty();
        assertThat(CapacityEstimate.text(GB24, 0, 50)).isEqualTo("not measurable (no per-session PSS)");
    }
}
