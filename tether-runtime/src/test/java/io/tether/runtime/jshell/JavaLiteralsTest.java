package io.tether.runtime.jshell;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JavaLiteralsTest {

    @Test
    void unquoteUndoesJShellsEscapes() {
        assertThat(JavaLiterals.unquote("\"a\\tb\\n\\\"q\\\" \\\\ é\"")).isEqualTo("a\tb\n\"q\" \\ é");
        assertThat(JavaLiterals.unquote("\"\\000\\177\\7x\"")).isEqualTo("\0\u007f\u0007x");
        assertThat(JavaLiterals.unquote("\"\\u2028\\uuu0041\"")).isEqualTo("\u2028A");
        assertThat(JavaLiterals.unquote("'\\''")).isEqualTo("'");
        assertThat(JavaLiterals.unquote("\"\\q\"")).isEqualTo("\\q");
    }

    @Test
    void jsonKindFollowsTheStaticType() {
        assertThat(JavaLiterals.jsonKind("int", "42")).isEqualTo(Wire.JsonKind.NUMBER);
        assertThat(JavaLiterals.jsonKind("Integer", "null")).isEqualTo(Wire.JsonKind.NONE);
        assertThat(JavaLiterals.jsonKind("double", "Infinity")).isEqualTo(Wire.JsonKind.NONE);
        assertThat(JavaLiterals.jsonKind("double", "1.5E300")).isEqualTo(Wire.JsonKind.NUMBER);
        assertThat(JavaLiterals.jsonKind("Boolean", "true")).isEqualTo(Wire.JsonKind.BOOLEAN);
        assertThat(JavaLiterals.jsonKind("String", "\"x\"")).isEqualTo(Wire.JsonKind.STRING);
        assertThat(JavaLiterals.jsonKind("String", "null")).isEqualTo(Wire.JsonKind.NONE);
        assertThat(JavaLiterals.jsonKind("List<Integer>", "[1]")).isEqualTo(Wire.JsonKind.NONE);
    }

    @Test
    void bundleCarriesTextAndJson() {
        assertThat(JShellWorker.bundle(new Wire.Outcome(Wire.Kind.OK, "12345678901234567890", Wire.JsonKind.NUMBER,
                "12345678901234567890", null, null, java.util.List.of(), false)))
                .containsEntry("application/json", new java.math.BigInteger("12345678901234567890"));
        assertThat(JShellWorker.bundle(new Wire.Outcome(Wire.Kind.OK, null, Wire.JsonKind.NONE, null, null, null,
                java.util.List.of(), false))).isEmpty();
    }
}
