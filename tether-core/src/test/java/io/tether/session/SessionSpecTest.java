package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class SessionSpecTest {
    private static final Duration FALLBACK = Duration.ofMinutes(30);

    private static void assertInvalid(ThrowingCallable call, String... messageParts) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContainingAll(messageParts);
    }

    @Test
    void aPlainSpecHasNoRuntimeNoKeyEmptyStateAndTheManagersTimeouts() {
        SessionSpec spec = SessionSpec.of("alice");

        assertThat(spec.owner()).isEqualTo("alice");
        assertThat(spec.runtime()).isEqualTo(Session.NO_RUNTIME).isEqualTo("none");
        assertThat(spec.key()).isNull();
        assertThat(spec.data).isSameAs(JsonObjects.EMPTY);
        assertThat(spec.metadata).isSameAs(JsonObjects.EMPTY);
        assertThat(spec.idleTimeoutOr(FALLBACK)).isEqualTo(FALLBACK);
        assertThat(spec.maxLifetimeOr(FALLBACK)).isEqualTo(FALLBACK);
    }

    @Test
    void valuesSetOnTheBuilderAreKept() {
        SessionSpec spec = SessionSpec.builder("alice")
                .runtime("python")
                .key("notebook-1")
                .data(Map.of("n", 1))
                .metadata(Map.of("label", "demo"))
                .idleTimeout(Duration.ofMinutes(5))
                .maxLifetime(Duration.ofHours(2))
                .build();

        assertThat(spec.runtime()).isEqualTo("python");
        assertThat(spec.key()).isEqualTo("notebook-1");
        assertThat(spec.data).isEqualTo(Map.of("n", 1L));
        assertThat(spec.metadata).isEqualTo(Map.of("label", "demo"));
        assertThat(spec.idleTimeoutOr(FALLBACK)).isEqualTo(Duration.ofMinutes(5));
        assertThat(spec.maxLifetimeOr(FALLBACK)).isEqualTo(Duration.ofHours(2));
    }

    @Test
    void noTimeoutMeansNoneRatherThanTheManagersDefault() {
        SessionSpec spec = SessionSpec.builder("alice").noIdleTimeout().noMaxLifetime().build();

        assertThat(spec.idleTimeoutOr(FALLBACK)).isNull();
        assertThat(spec.maxLifetimeOr(FALLBACK)).isNull();
    }

    @Test
    void theLastTimeoutCallWins() {
        SessionSpec spec = SessionSpec.builder("alice")
                .idleTimeout(Duration.ofMinutes(1)).noIdleTimeout()
                .noMaxLifetime().maxLifetime(Duration.ofHours(1))
                .build();

        assertThat(spec.idleTimeoutOr(FALLBACK)).isNull();
        assertThat(spec.maxLifetimeOr(FALLBACK)).isEqualTo(Duration.ofHours(1));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"   ", "\t\n"})
    void aMissingOrBlankOwnerIsRefused(String owner) {
        assertInvalid(() -> SessionSpec.of(owner), "owner must be 1-256 characters");
    }

    @Test
    void anOwnerLongerThan256CharactersIsRefusedAnd256AreAccepted() {
        assertInvalid(() -> SessionSpec.of("o".repeat(SessionSpec.MAX_NAME_LENGTH + 1)), "owner", "256");

        assertThat(SessionSpec.of("o".repeat(SessionSpec.MAX_NAME_LENGTH)).owner()).hasSize(256);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Python", "1python", "-python", "_python", "py thon", "py.thon", "pyth\u00f6n",
            "python\n", "abcdefghijklmnopqrstuvwxyz0123456"})
    void aRuntimeNameOutsideTheAllowedPatternIsRefused(String runtime) {
        assertInvalid(() -> SessionSpec.builder("alice").runtime(runtime).build(),
                "runtime must match [a-z][a-z0-9_-]{0,31}", "'" + runtime + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "python", "node-20", "py_3", "abcdefghijklmnopqrstuvwxyz012345"})
    void runtimeNamesMatchingThePatternAreAccepted(String runtime) {
        assertThat(SessionSpec.builder("alice").runtime(runtime).build().runtime()).isEqualTo(runtime);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t"})
    void aBlankKeyIsRefused(String key) {
        assertInvalid(() -> SessionSpec.builder("alice").key(key).build(), "key must be 1-256 characters");
    }

    @Test
    void aKeyLongerThan256CharactersIsRefused() {
        assertInvalid(() -> SessionSpec.builder("alice").key("k".repeat(257)).build(), "key", "256");

        assertThat(SessionSpec.builder("alice").key("k".repeat(256)).build().key()).hasSize(256);
    }

    @Test
    void aNullKeyMeansNoKey() {
        assertThat(SessionSpec.builder("alice").key("k").key(null).build().key()).isNull();
    }

    @Test
    void nonPositiveTimeoutsAreRefused() {
        SessionSpec.Builder builder = SessionSpec.builder("alice");

        assertInvalid(() -> builder.idleTimeout(Duration.ZERO), "idle timeout must be at least 1 ms", "PT0S");
        assertInvalid(() -> builder.idleTimeout(Duration.ofSeconds(-1)), "idle timeout must be at least 1 ms");
        assertInvalid(() -> builder.idleTimeout(Duration.ofNanos(999_999)), "idle timeout must be at least 1 ms");
        assertInvalid(() -> builder.idleTimeout(null), "idle timeout must be at least 1 ms", "null");
        assertInvalid(() -> builder.maxLifetime(Duration.ZERO), "max lifetime must be at least 1 ms");
        assertInvalid(() -> builder.maxLifetime(Duration.ofMillis(-1)), "max lifetime must be at least 1 ms");

        SessionSpec spec = builder.build();
        assertThat(spec.idleTimeoutOr(FALLBACK)).as("a refused value leaves the default").isEqualTo(FALLBACK);
        assertThat(spec.maxLifetimeOr(FALLBACK)).isEqualTo(FALLBACK);
    }

    @Test
    void timeoutsKeepMillisecondPrecisionLikeTheStores() {
        SessionSpec spec = SessionSpec.builder("alice").idleTimeout(Duration.ofNanos(1_500_000)).build();
        assertThat(spec.idleTimeoutOr(FALLBACK)).isEqualTo(Duration.ofMillis(1));
    }

    @Test
    void nullsAreInvalidRequestsNotNullPointers() {
        assertInvalid(() -> SessionSpec.builder("alice").runtime(null), "runtime must not be null");
        assertInvalid(() -> SessionSpec.builder("alice").data(null), "data must not be null");
        assertInvalid(() -> SessionSpec.builder("alice").metadata(null), "metadata must not be null");
    }

    @Test
    void dataOrMetadataThatIsNotJsonIsRefusedNamingWhichOne() {
        assertInvalid(() -> SessionSpec.builder("alice").data(Map.of("x", Double.NaN)).build(), "data.x");
        assertInvalid(() -> SessionSpec.builder("alice").metadata(Map.of("y", new Object())).build(), "metadata.y");
    }

    @Test
    void changingTheCallersMapAfterBuildingChangesNothing() {
        List<Object> list = new ArrayList<>(List.of(1));
        Map<String, Object> nested = new HashMap<>(Map.of("list", list));
        Map<String, Object> data = new HashMap<>(Map.of("nested", nested, "n", 1));
        Map<String, Object> metadata = new HashMap<>(Map.of("label", "a"));
        SessionSpec spec = SessionSpec.builder("alice").data(data).metadata(metadata).build();

        data.put("n", 2);
        nested.put("extra", true);
        list.add(2);
        metadata.clear();

        assertThat(spec.data).isEqualTo(Map.of("nested", Map.of("list", List.of(1L)), "n", 1L));
        assertThat(spec.metadata).isEqualTo(Map.of("label", "a"));
        assertThatThrownBy(() -> spec.data.put("n", 3)).isInstanceOf(UnsupportedOperationException.class);
    }
}
