package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    @SuppressWarnings("unchecked")
    void readsTheShapesOfWorkerFrames() {
        Object frame = Json.parse("{\"t\":\"done\",\"id\":7,\"status\":\"ok\",\"result\":{\"text/plain\":\"42\","
                + "\"application/json\":42},\"error\":null,\"truncated\":false}");
        assertThat((Map<Object, Object>) frame).containsEntry("t", "done").containsEntry("id", 7L)
                .containsEntry("status", "ok").containsEntry("truncated", false)
                .containsEntry("result", Map.of("text/plain", "42", "application/json", 42L));
        assertThat((Map<Object, Object>) frame).containsEntry("error", null);
    }

    @Test
    void keepsNullsInsideArraysAndObjects() {
        assertThat(Json.parse("[1, null, {\"a\": null}]")).isEqualTo(Arrays.asList(1L, null,
                java.util.Collections.singletonMap("a", null)));
    }

    @Test
    void numbersAreLongBigIntegerOrDouble() {
        assertThat(Json.parse("-12")).isEqualTo(-12L);
        assertThat(Json.parse("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThat(Json.parse("-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(Json.parse("123456789012345678901234567890"))
                .isEqualTo(new BigInteger("123456789012345678901234567890"));
        assertThat(Json.parse("2.5")).isEqualTo(2.5);
        assertThat(Json.parse("1e+100")).isEqualTo(1e100);
        assertThat(Json.parse("0")).isEqualTo(0L);
    }

    @Test
    void decodesEscapesIncludingSurrogatePairsAndLoneSurrogates() {
        assertThat(Json.parse("\"a\\n\\t\\\"\\\\\\/\\u00e9\\ud83d\\ude00\""))
                .isEqualTo("a\n\t\"\\/é\uD83D\uDE00");
        assertThat(Json.parse("\"\\ud800\"")).isEqualTo("\uD800");
        assertThat(Json.parse("\"\\u0000\"")).isEqualTo("\0");
    }

    @Test
    @SuppressWarnings("unchecked")
    void valuesAreImmutable() {
        Object list = Json.parse("[1]");
        assertThatThrownBy(() -> ((List<Object>) list).add(2L)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void refusesWhatIsNotStrictJson() {
        for (String bad : List.of("", "{", "[1,]", "{\"a\"}", "{'a':1}", "01", "1.", "-", "tru", "nan",
                "\"a", "\"\\x\"", "\"\\u12\"", "\"tab\there\"", "1 2", "{\"a\":1,}", "[1 2]")) {
            assertThatThrownBy(() -> Json.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void refusesNestingDeeperThanTheLimit() {
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertThat(Json.parse(ok)).isInstanceOf(List.class);
        String deep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        assertThatThrownBy(() -> Json.parse(deep)).isInstanceOf(IllegalArgumentException.class);
    }
}
