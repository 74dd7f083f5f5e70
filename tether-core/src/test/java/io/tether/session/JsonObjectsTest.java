package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JsonObjectsTest {

    /** A mutable JSON object from alternating keys and values; values may be null. */
    private static Map<String, Object> obj(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private static Object normalized(Object value) {
        return JsonObjects.copyOf(obj("v", value), "data").get("v");
    }

    private static void assertInvalid(ThrowingCallable call, String... messageParts) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContainingAll(messageParts);
    }

    // ------------------------------------------------------------------ normalization

    @Test
    void integralNumbersThatFitALongBecomeLongs() {
        assertThat(normalized(7)).isEqualTo(7L);
        assertThat(normalized((short) -3)).isEqualTo(-3L);
        assertThat(normalized((byte) 5)).isEqualTo(5L);
        assertThat(normalized(9L)).isEqualTo(9L);
        assertThat(normalized(BigInteger.valueOf(123))).isEqualTo(123L);
        assertThat(normalized(BigInteger.valueOf(Long.MAX_VALUE))).isEqualTo(Long.MAX_VALUE);
        assertThat(normalized(BigInteger.valueOf(Long.MIN_VALUE))).isEqualTo(Long.MIN_VALUE);
    }

    @Test
    void integersBeyondALongStayBigIntegers() {
        BigInteger justAbove = BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE);
        BigInteger justBelow = BigInteger.valueOf(Long.MIN_VALUE).subtract(BigInteger.ONE);

        assertThat(normalized(justAbove)).isInstanceOf(BigInteger.class).isEqualTo(justAbove);
        assertThat(normalized(justBelow)).isInstanceOf(BigInteger.class).isEqualTo(justBelow);
    }

    @Test
    void floatsBecomeDoubles() {
        assertThat(normalized(1.5f)).isInstanceOf(Double.class).isEqualTo(1.5d);
        assertThat(normalized(2.25d)).isEqualTo(2.25d);
    }

    @Test
    void integralBigDecimalsBecomeLongsOrBigIntegers() {
        assertThat(normalized(new BigDecimal("42.000"))).isEqualTo(42L);
        assertThat(normalized(new BigDecimal("1E+3"))).isEqualTo(1000L);
        assertThat(normalized(new BigDecimal("-0"))).isEqualTo(0L);
        assertThat(normalized(new BigDecimal("1E+30"))).isEqualTo(BigInteger.TEN.pow(30));
    }

    @Test
    void fractionalBigDecimalsBecomeDoubles() {
        assertThat(normalized(new BigDecimal("0.1"))).isInstanceOf(Double.class).isEqualTo(0.1d);
        assertThat(normalized(new BigDecimal("-2.5"))).isEqualTo(-2.5d);
    }

    // A BigDecimal is a few bytes however large its exponent; a JSON reader configured for
    // exact decimals hands over "1e-100000000" as one. Normalizing it must not expand it.

    @Test
    void aBigDecimalWithAHugeNegativeExponentBecomesADoubleQuickly() {
        Object value = assertTimeoutPreemptively(Duration.ofSeconds(2),
                () -> normalized(new BigDecimal("1e-100000000")));

        assertThat(value).isEqualTo(0.0d);
    }

    @Test
    void aBigDecimalWithAHugePositiveExponentIsRefusedQuickly() {
        for (String huge : new String[] {"1e100000000", "-2.5e100000000", "100E+2147483647"}) {
            assertTimeoutPreemptively(Duration.ofSeconds(2), () ->
                    assertInvalid(() -> JsonObjects.copyOf(obj("x", new BigDecimal(huge)), "data"), "data.x"));
        }
    }

    @Test
    void integralBigDecimalsOfUpToAThousandDigitsAreKept() {
        assertThat(normalized(new BigDecimal("1e999"))).isEqualTo(BigInteger.TEN.pow(999));
        assertInvalid(() -> JsonObjects.copyOf(obj("x", new BigDecimal("1e1000")), "data"), "data.x", "too large");
        assertThat(normalized(new BigDecimal("0E-100000000"))).isEqualTo(0L);
        assertThat(normalized(new BigDecimal("1" + "0".repeat(999) + ".000"))).isEqualTo(BigInteger.TEN.pow(999));
    }

    @Test
    void stringsBooleansAndNullsAreKeptAsTheyAre() {
        Map<String, Object> copy = JsonObjects.copyOf(
                obj("s", "text", "t", true, "f", false, "n", null,
                        "nested", obj("n", null), "list", Arrays.asList("x", null)),
                "data");

        assertThat(copy).containsEntry("s", "text").containsEntry("t", true).containsEntry("f", false);
        assertThat(copy).containsKey("n").containsEntry("n", null);
        assertThat(copy.get("nested")).isEqualTo(obj("n", null));
        assertThat(copy.get("list")).isEqualTo(Arrays.asList("x", null));
    }

    @Test
    void numbersInsideNestedObjectsAndArraysAreNormalizedToo() {
        Map<String, Object> copy = JsonObjects.copyOf(
                obj("a", obj("b", 1, "c", List.of(2, 3.5f, List.of((short) 4)))), "data");

        assertThat(copy).isEqualTo(Map.of("a", Map.of("b", 1L, "c", List.of(2L, 3.5d, List.of(4L)))));
    }

    // ------------------------------------------------------------------ copies

    @Test
    void theCopyAndEverythingInsideItIsImmutable() {
        Map<String, Object> copy = JsonObjects.copyOf(
                obj("a", obj("b", new ArrayList<>(List.of(1)))), "data");
        @SuppressWarnings("unchecked")
        Map<String, Object> nested = (Map<String, Object>) copy.get("a");
        @SuppressWarnings("unchecked")
        List<Object> list = (List<Object>) nested.get("b");

        assertThatThrownBy(() -> copy.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> nested.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> list.add(2)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void changingTheSourceAfterwardsDoesNotChangeTheCopy() {
        List<Object> sourceList = new ArrayList<>(List.of(1));
        Map<String, Object> sourceNested = obj("b", sourceList);
        Map<String, Object> source = obj("a", sourceNested);
        Map<String, Object> copy = JsonObjects.copyOf(source, "data");

        source.put("z", 1);
        sourceNested.put("c", 2);
        sourceList.add(3);

        assertThat(copy).isEqualTo(Map.of("a", Map.of("b", List.of(1L))));
    }

    @Test
    void emptyInputGivesTheSharedEmptyObject() {
        assertThat(JsonObjects.copyOf(null, "data")).isSameAs(JsonObjects.EMPTY);
        assertThat(JsonObjects.copyOf(new HashMap<>(), "data")).isSameAs(JsonObjects.EMPTY);
        assertThat(JsonObjects.copyOf(obj("a", new HashMap<>()), "data").get("a")).isSameAs(JsonObjects.EMPTY);
    }

    // ------------------------------------------------------------------ refusals

    @Test
    void nanAndInfinityAreRefusedNamingThePath() {
        assertInvalid(() -> JsonObjects.copyOf(obj("a", obj("b", Double.NaN)), "data"), "data.a.b", "NaN");
        assertInvalid(() -> JsonObjects.copyOf(obj("a", Double.POSITIVE_INFINITY), "data"), "data.a", "Infinity");
        assertInvalid(() -> JsonObjects.copyOf(obj("a", Float.NEGATIVE_INFINITY), "metadata"), "metadata.a");
        assertInvalid(() -> JsonObjects.copyOf(obj("a", List.of(1, Float.NaN)), "data"), "data.a[1]");
    }

    @Test
    void aFractionalBigDecimalBeyondDoubleRangeIsRefused() {
        BigDecimal huge = new BigDecimal("1E+400").add(new BigDecimal("0.5"));

        assertInvalid(() -> JsonObjects.copyOf(obj("x", huge), "data"), "data.x", "not a JSON number");
    }

    @Test
    void nonStringKeysAreRefusedNamingThePath() {
        Map<Object, Object> badNested = new HashMap<>();
        badNested.put(1, "one");

        assertInvalid(() -> JsonObjects.copyOf(obj("a", badNested), "data"), "data.a", "keys must be strings");
        assertInvalid(() -> JsonObjects.copyOf(Map.of(2, "two"), "data"), "data:", "keys must be strings");
    }

    @Test
    void valuesThatAreNotJsonAreRefusedNamingThePathAndType() {
        Map<String, Object> withThread = obj("a", obj("b", Thread.currentThread()));

        assertInvalid(() -> JsonObjects.copyOf(withThread, "data"), "data.a.b", "Thread", "not a JSON value");
        assertInvalid(() -> JsonObjects.copyOf(obj("l", List.of("ok", new Object())), "data"), "data.l[1]");
        assertInvalid(() -> JsonObjects.copyOf(obj("n", new java.util.concurrent.atomic.AtomicLong()), "data"),
                "data.n");
        assertInvalid(() -> JsonObjects.copyOf(obj("c", 'c'), "data"), "data.c", "Character");
    }

    /** {"k": {"k": … {"k": "leaf"}}} with {@code objects} objects in the chain, the top included. */
    private static Map<String, Object> chainOfObjects(int objects) {
        Map<String, Object> m = obj("k", "leaf");
        for (int i = 1; i < objects; i++) {
            m = obj("k", m);
        }
        return m;
    }

    @Test
    void objectsNestedMaxDepthLevelsBelowTheTopAreAccepted() {
        Map<String, Object> deepest = chainOfObjects(JsonObjects.MAX_DEPTH + 1);

        assertThat(JsonObjects.copyOf(deepest, "data")).isEqualTo(deepest);
    }

    @Test
    void nestingDeeperThanMaxDepthIsRefused() {
        assertInvalid(() -> JsonObjects.copyOf(chainOfObjects(JsonObjects.MAX_DEPTH + 2), "data"),
                "nested deeper than " + JsonObjects.MAX_DEPTH);

        Object arrays = "leaf";
        for (int i = 0; i < JsonObjects.MAX_DEPTH + 1; i++) {
            arrays = List.of(arrays);
        }
        Object deepArrays = arrays;
        assertInvalid(() -> JsonObjects.copyOf(obj("a", deepArrays), "data"), "nested deeper than");
    }

    @Test
    void anObjectThatContainsItselfIsRefusedInsteadOfOverflowingTheStack() {
        Map<String, Object> cyclic = new HashMap<>();
        cyclic.put("self", cyclic);

        assertInvalid(() -> JsonObjects.copyOf(cyclic, "data"), "data.self", "nested deeper than");
    }

    // ------------------------------------------------------------------ merge (RFC 7386)

    /** RFC 7386 appendix A, the cases whose target and patch are both objects. */
    static Stream<Arguments> rfc7386ObjectExamples() {
        return Stream.of(
                Arguments.of(obj("a", "b"), obj("a", "c"), obj("a", "c")),
                Arguments.of(obj("a", "b"), obj("b", "c"), obj("a", "b", "b", "c")),
                Arguments.of(obj("a", "b"), obj("a", null), obj()),
                Arguments.of(obj("a", "b", "b", "c"), obj("a", null), obj("b", "c")),
                Arguments.of(obj("a", List.of("b")), obj("a", "c"), obj("a", "c")),
                Arguments.of(obj("a", "c"), obj("a", List.of("b")), obj("a", List.of("b"))),
                Arguments.of(obj("a", obj("b", "c")), obj("a", obj("b", "d", "c", null)), obj("a", obj("b", "d"))),
                Arguments.of(obj("a", List.of(obj("b", "c"))), obj("a", List.of(1)), obj("a", List.of(1L))),
                Arguments.of(obj("e", null), obj("a", 1), obj("e", null, "a", 1L)),
                Arguments.of(obj(), obj("a", obj("bb", obj("ccc", null))), obj("a", obj("bb", obj()))));
    }

    @ParameterizedTest
    @MethodSource("rfc7386ObjectExamples")
    void mergeFollowsRfc7386(Map<String, Object> original, Map<String, Object> patch, Map<String, Object> result) {
        Map<String, Object> target = JsonObjects.copyOf(original, "data");

        assertThat(JsonObjects.merge(target, patch, "data")).isEqualTo(result);
    }

    @Test
    void mergingAnEmptyObjectIntoAnObjectLeavesItAsItIs() {
        Map<String, Object> target = JsonObjects.copyOf(obj("a", obj("b", "c"), "x", "y"), "data");

        assertThat(JsonObjects.merge(target, obj("a", obj()), "data")).isEqualTo(target);
        assertThat(JsonObjects.merge(target, obj("x", obj()), "data")).isEqualTo(obj("a", obj("b", "c"), "x", obj()));
    }

    @Test
    void arraysInAPatchReplaceWholeNullsInsideThemIncluded() {
        Map<String, Object> target = JsonObjects.copyOf(obj("a", List.of(1, 2, 3)), "data");

        assertThat(JsonObjects.merge(target, obj("a", Arrays.asList(null, 9)), "data"))
                .isEqualTo(obj("a", Arrays.asList(null, 9L)));
    }

    @Test
    void mergeDoesNotChangeTheTarget() {
        Map<String, Object> target = obj("a", obj("b", "c"), "d", 1L, "gone", "soon");
        Map<String, Object> before = JsonObjects.copyOf(target, "data");

        Map<String, Object> merged = JsonObjects.merge(target, obj("a", obj("b", "z"), "gone", null, "new", 2), "data");

        assertThat(target).isEqualTo(before);
        assertThat(merged).isEqualTo(obj("a", obj("b", "z"), "d", 1L, "new", 2L));
    }

    @Test
    void theMergedObjectAndItsNestedObjectsAreImmutable() {
        Map<String, Object> target = JsonObjects.copyOf(obj("a", obj("b", "c")), "data");
        Map<String, Object> merged = JsonObjects.merge(target, obj("a", obj("d", 1)), "data");
        @SuppressWarnings("unchecked")
        Map<String, Object> nested = (Map<String, Object>) merged.get("a");

        assertThatThrownBy(() -> merged.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> nested.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void mergingThatRemovesEveryKeyGivesTheSharedEmptyObject() {
        Map<String, Object> target = JsonObjects.copyOf(obj("a", 1), "data");

        assertThat(JsonObjects.merge(target, obj("a", null), "data")).isSameAs(JsonObjects.EMPTY);
    }

    @Test
    void anEmptyOrMissingPatchLeavesTheTarget() {
        Map<String, Object> target = JsonObjects.copyOf(obj("a", 1), "data");

        assertThat(JsonObjects.merge(target, null, "data")).isSameAs(target);
        assertThat(JsonObjects.merge(target, Map.of(), "data")).isSameAs(target);
    }

    @Test
    void anInvalidPatchIsRefusedNamingThePath() {
        Map<String, Object> target = JsonObjects.copyOf(obj("a", 1), "data");

        assertInvalid(() -> JsonObjects.merge(target, obj("a", obj("b", Double.NaN)), "data"), "data.a.b");
        assertThat(target).isEqualTo(Map.of("a", 1L));
    }
}
