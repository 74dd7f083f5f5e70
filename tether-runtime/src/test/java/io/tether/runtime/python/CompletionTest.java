package io.tether.runtime.python;

import static org.assertj.core.api.Assertions.assertThat;

import io.tether.runtime.Completion;
import io.tether.runtime.ExecutionRequest;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import io.tether.runtime.Inspection;
import io.tether.runtime.OutputListener;
import io.tether.runtime.Worker;
import io.tether.runtime.WorkerOptions;
import io.tether.runtime.WorkerOptions.WorkerLimits;
import io.tether.runtime.WorkerState;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Completion and inspection against a live worker's namespace, between executions. */
class CompletionTest extends PythonRuntimeFixture {
    static final Duration WAIT = Duration.ofSeconds(10);
    Worker worker;
    long number;

    @BeforeEach
    void start() {
        worker = runtime.start(new WorkerOptions(WorkerLimits.DEFAULTS));
    }

    @AfterEach
    void close() {
        worker.close();
    }

    void ok(String code) {
        ExecutionResult r = worker.execute(new ExecutionRequest(++number, code, Duration.ofSeconds(30)),
                OutputListener.NONE);
        assertThat(r.status()).as("%s", r).isEqualTo(ExecutionStatus.OK);
    }

    @Test
    void attributesOfALiveModuleComplete() {
        String code = "import os; os.pa";
        Completion c = worker.complete(code, code.length(), WAIT);
        assertThat(c.matches()).contains("path", "pardir").allMatch(m -> m.startsWith("pa"));
        assertThat(c.cursorStart()).isEqualTo(code.length() - 2);
        assertThat(c.cursorEnd()).isEqualTo(code.length());
    }

    @Test
    void namesFromEarlierExecutionsBuiltinsAndKeywordsComplete() {
        ok("answer_to_everything = 42\nclass Point:\n    def __init__(self): self.xcoord = 1\np = Point()");
        assertThat(worker.complete("answer_to", 9, WAIT).matches()).containsExactly("answer_to_everything");
        assertThat(worker.complete("p.xc", 4, WAIT).matches()).containsExactly("xcoord");
        assertThat(worker.complete("x = len", 7, WAIT).matches()).contains("len");
        assertThat(worker.complete("whi", 3, WAIT).matches()).contains("while");
        assertThat(worker.state()).isEqualTo(WorkerState.IDLE);
    }

    @Test
    void theCursorCountsCodePointsAndMayBeInTheMiddle() {
        ok("naïve_𐐨 = 1");
        String code = "s = '𐐨'; naïve_ + 1";
        int cursor = code.codePointCount(0, code.indexOf(" + 1"));
        Completion c = worker.complete(code, cursor, WAIT);
        assertThat(c.matches()).containsExactly("naïve_𐐨");
        assertThat(c.cursorEnd()).isEqualTo(cursor);
        assertThat(c.cursorStart()).isEqualTo(cursor - "naïve_".length());
    }

    @Test
    void moduleNamesCompleteAfterImport() {
        assertThat(worker.complete("import jso", 10, WAIT).matches()).contains("json");
        ok("import os");
        assertThat(worker.complete("from os import pa", 17, WAIT).matches()).contains("path");
    }

    @Test
    void callsAreNotEvaluatedToComplete() {
        ok("calls = []\ndef f():\n    calls.append(1)\n    return 'text'");
        assertThat(worker.complete("f().up", 6, WAIT).matches()).isEmpty();
        ok("assert calls == [], calls");
    }

    @Test
    void inspectionGivesSignatureAndDocstring() {
        Inspection i = worker.inspect("len(", 4, WAIT);
        assertThat(i.found()).isTrue();
        assertThat((String) i.data().get("text/plain")).contains("len(obj, /)")
                .contains("Return the number of items in a container.");
        ok("def area(w, h=2):\n    '''The area of a w by h rectangle.'''\n    return w * h");
        assertThat((String) worker.inspect("area", 2, WAIT).data().get("text/plain"))
                .contains("area(w, h=2)").contains("The area of a w by h rectangle.");
        assertThat(worker.inspect("nothing_here", 3, WAIT)).isEqualTo(Inspection.NOT_FOUND);
    }

    @Test
    void whatAPropertyPrintsWhileCompletingIsNotTheNextExecutionsOutput() {
        ok("import os\nclass Loud:\n    @property\n    def noise(self):\n        print('printed', end='')\n"
                + "        os.write(2, b'written')\n        return 'text'\nloud = Loud()");
        assertThat(worker.complete("loud.noise.upp", 14, WAIT).matches()).containsExactly("upper");
        ExecutionResult r = worker.execute(new ExecutionRequest(++number, "print('next')", Duration.ofSeconds(30)),
                OutputListener.NONE);
        assertThat(r.stdout()).isEqualTo("next\n");
        assertThat(r.stderr()).isEmpty();
    }

    @Test
    void aHangingPropertyIsInterruptedAndTheWorkerLives() {
        ok("import time\nclass Slow:\n    @property\n    def nap(self):\n        time.sleep(60)\nslow = Slow()");
        long pid = worker.pid();
        long start = System.nanoTime();
        Completion c = worker.complete("slow.nap.x", 10, Duration.ofMillis(300));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(c.matches()).isEmpty();
        assertThat(worker.pid()).isEqualTo(pid);
        ok("x = 1");
    }
}
