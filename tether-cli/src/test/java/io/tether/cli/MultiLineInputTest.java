package io.tether.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MultiLineInputTest {
    private static boolean python(String... lines) {
        return MultiLineInput.forRuntime("python").complete(List.of(lines));
    }

    private static boolean jshell(String... lines) {
        return MultiLineInput.forRuntime("jshell").complete(List.of(lines));
    }

    @Test
    void pythonRunsAStatementAtOnceAndABlockAtTheFirstEmptyLine() {
        assertThat(python("x = 1")).isTrue();
        assertThat(python("if x: print(x)")).isTrue();
        assertThat(python("def f(a):  # doubles")).isFalse();
        assertThat(python("def f(a):", "    return a * 2")).isFalse();
        assertThat(python("def f(a):", "    return a * 2", "")).isTrue();
        assertThat(python("@cache")).isFalse();

        assertThat(python("xs = [1,")).isFalse();
        assertThat(python("xs = [1,", "      2]")).isTrue();
        assertThat(python("d = {1:", "     2}")).as("a colon inside brackets opens no block").isTrue();
        assertThat(python("x = 1 + \\")).isFalse();
        assertThat(python("s = '''a", "")).isFalse();
        assertThat(python("s = '''a", "b'''")).isTrue();
        assertThat(python("s = ':(' # ) [")).as("strings and comments do not count").isTrue();
        assertThat(python("print(1))")).as("a stray bracket is the interpreter's to report").isTrue();
    }

    @Test
    void jshellRunsWhenBracketsBalance() {
        assertThat(jshell("int x = 1;")).isTrue();
        assertThat(jshell("int twice(int a) {")).isFalse();
        assertThat(jshell("int twice(int a) {", "  return a * 2;", "}")).isTrue();
        assertThat(jshell("String s = \"{(\";")).isTrue();
        assertThat(jshell("char c = '{'; // {")).isTrue();
        assertThat(jshell("/* {", "*/ int y = 2;")).isTrue();
        assertThat(jshell("String t = \"\"\"", "  {")).isFalse();
        assertThat(jshell("String t = \"\"\"", "  {", "  \"\"\";")).isTrue();
    }
}
