package io.tether.bench.compare;

import java.util.Arrays;

/** The summaries the comparison reports: latency quantiles, and the spread of a figure across runs. */
final class Stats {
    private Stats() {
    }

    /** Latencies of one workload in milliseconds: the median and p99 (nearest rank) of {@code count} samples. */
    record Latency(int count, double medianMs, double p99Ms, double maxMs) {
    }

    /** A figure across runs: the median of the runs' values and the smallest and largest. */
    record Spread(int runs, double median, double min, double max) {
        /** Whether the runs disagree by more than {@code fraction} of the median, either way. */
        boolean wide(double fraction) {
            return max - min > fraction * median;
        }
    }

    static Latency latency(long[] nanos) {
        if (nanos.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new Latency(sorted.length, quantile(sorted, 0.5) / 1e6, quantile(sorted, 0.99) / 1e6,
                sorted[sorted.length - 1] / 1e6);
    }

    /** The nearest-rank quantile of sorted values: the smallest with at least {@code q} of them at or below it. */
    static double quantile(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    /** The median (the mean of the middle two for an even count), smallest and largest of the values. */
    static Spread spread(double... values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        return new Spread(n, median, v[0], v[n - 1]);
    }
}
