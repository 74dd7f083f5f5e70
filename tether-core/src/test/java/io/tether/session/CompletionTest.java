package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.runtime.Completion;
import io.tether.runtime.Inspection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The manager's side of completion and inspection: cursor checks, ownership, and never
 * waiting for (or holding up) an execution. Real interpreters answer in tether-runtime.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CompletionTest {
    private static final Access ALICE = Access.owner("alice");
    private final EchoRuntime echo = new EchoRuntime();
    private SessionManager manager;
    private String id;

    @BeforeEach
    void start() {
        manager = SessionManager.builder().clock(new MutableClock()).reaperInterval(Duration.ZERO).runtime(echo)
                .build().start();
        id = manager.create(ALICE, SessionSpec.builder("alice").runtime("echo").build()).id();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    static void assertCode(Runnable call, ErrorCode code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(TetherException.class,
                e -> assertThat(e.code()).isEqualTo(code));
    }

    @Test
    void aRuntimeWithoutCompletionOffersNothingAtTheCursor() {
        assertThat(manager.complete(ALICE, id, "abc", 2)).isEqualTo(Completion.none(2));
        assertThat(manager.inspect(ALICE, id, "abc", 0)).isEqualTo(Inspection.NOT_FOUND);
    }

    @Test
    void theCursorMustBeInTheCodeCountedInCodePoints() {
        String code = "a𐐨b"; // 3 code points, 4 chars
        assertThat(manager.complete(ALICE, id, code, 3).cursorEnd()).isEqualTo(3);
        assertCode(() -> manager.complete(ALICE, id, code, 4), ErrorCode.INVALID_REQUEST);
        assertCode(() -> manager.complete(ALICE, id, code, -1), ErrorCode.INVALID_REQUEST);
        assertCode(() -> manager.inspect(ALICE, id, code, 4), ErrorCode.INVALID_REQUEST);
    }

    @Test
    void whileAnExecutionRunsTheAnswerIsBusyAtOnceAndTheExecutionIsUntouched() throws Exception {
        CompletableFuture<?> running = CompletableFuture.runAsync(() -> manager.execute(ALICE, id, "wait", null, null));
        echo.awaitWaiting();
        assertCode(() -> manager.complete(ALICE, id, "x", 1), ErrorCode.SESSION_BUSY);
        assertCode(() -> manager.inspect(ALICE, id, "x", 1), ErrorCode.SESSION_BUSY);
        echo.release();
        running.get(10, TimeUnit.SECONDS);
        assertThat(manager.complete(ALICE, id, "x", 1)).isEqualTo(Completion.none(1));
        assertThat(manager.execution(ALICE, id, 1).orElseThrow().result().status().name()).isEqualTo("OK");
    }

    @Test
    void aPlainSessionHasNothingToComplete() {
        String plain = manager.create(ALICE, SessionSpec.builder("alice").build()).id();
        assertCode(() -> manager.complete(ALICE, plain, "x", 1), ErrorCode.INVALID_REQUEST);
    }
}
