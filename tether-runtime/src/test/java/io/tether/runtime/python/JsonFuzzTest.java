package io.tether.runtime.python;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The worker's frames as the JVM reads them: whatever bytes a worker (or code that took its
 * channel over) writes, {@link Json#parse} returns a value or throws
 * {@link IllegalArgumentException}, which the channel turns into a protocol error and a
 * dead worker; anything else (a stack overflow, a class cast, an index out of bounds) would
 * escape that handling. Runs the committed inputs under {@code mvn verify}; fuzz for longer
 * with {@code JAZZER_FUZZ=1} (docs/building.md).
 */
class JsonFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void parse(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        try {
            Json.parse(text);
        } catch (IllegalArgumentException expected) {
            // not one complete JSON value: a protocol error, handled
        }
    }
}
