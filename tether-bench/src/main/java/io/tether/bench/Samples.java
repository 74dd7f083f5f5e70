package io.tether.bench;

import java.util.Arrays;
import java.util.Locale;

/** Latencies of one measured operation, in nanoseconds, summarized by median and p99. */
record Samples(String name, long[] nanos) {
    Samples {
        nanos = nanos.clone();
        Arrays.sort(nanos);
        if (nanos.length == 0) {
            throw new IllegalArgumentException(name + ": no samples");
        }
    }

    /** The nearest-rank quantile: the smallest sample with at least {@code q} of them at or below it. */
    double quantileMicros(double q) {
        int rank = (int) Math.ceil(q * nanos.length);
        return nanos[Math.max(0, rank - 1)] / 1_000.0;
    }

    double medianMicros() {
        return quantileMicros(0.5);
    }

    double p99Micros() {
        return quantileMicros(0.99);
    }

    int count() {
        return nanos.length;
    }

    String json() {
        return String.format(Locale.ROOT, "{\"count\": %d, \"median_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f}",
                count(), medianMicros(), p99Micros(), nanos[nanos.length - 1] / 1_000.0);
    }
}
