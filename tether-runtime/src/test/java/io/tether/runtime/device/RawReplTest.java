package io.tether.runtime.device;

import static io.tether.runtime.device.FakeBoard.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Test;

class RawReplTest {
    private static final Duration SHORT = Duration.ofMillis(300);

    private static long in(Duration d) {
        return System.nanoTime() + d.toNanos();
    }

    private static String run(RawRepl repl, String code, StringBuilder out) throws Exception {
        RawRepl.Exchange x = repl.start(bytes(code), false, in(Duration.ofSeconds(5)));
        return x.finish(out::append, in(Duration.ofSeconds(5))).error();
    }

    @Test
    void outputThatLooksLikeTheProtocolIsKeptAsOutput() throws Exception {
        String tricky = "OK>\r\n>raw REPL; CTRL-B to exit\r\n>\u0001\u0005A\u0001 R\u0001 >>> ";
        FakeBoard board = new FakeBoard(code -> bytes(tricky + "\u0004\u0004>"), 3);
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            StringBuilder out = new StringBuilder();
            assertThat(run(repl, "print(x)", out)).isEmpty();
            assertThat(out).hasToString(tricky);
        }
    }

    @Test
    void aCharacterSplitAcrossReadsComesOutWhole() throws Exception {
        String text = "π → 😀 ü\n";
        FakeBoard board = new FakeBoard(code -> bytes(text + "\u0004\u0004>"), 1);
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            StringBuilder out = new StringBuilder();
            run(repl, "print(s)", out);
            assertThat(out).hasToString(text);
        }
    }

    @Test
    void theErrorSectionIsTheTraceback() throws Exception {
        String tb = "Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n"
                + "ZeroDivisionError: divide by zero\r\n";
        FakeBoard board = new FakeBoard(code -> bytes("partial\n\u0004" + tb + "\u0004>"), 7);
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            StringBuilder out = new StringBuilder();
            assertThat(run(repl, "1/0", out)).isEqualTo(tb);
            assertThat(out).hasToString("partial\n");
        }
    }

    @Test
    void theCodeReachesTheDeviceIntactAndTheStateMachineRunsTwice() throws Exception {
        FakeBoard board = new FakeBoard(code -> bytes("[" + code + "]\u0004\u0004>"), 64);
        String big = "x = '" + "y".repeat(1000) + "'";
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            StringBuilder out = new StringBuilder();
            run(repl, big, out);
            run(repl, "again", out);
            assertThat(out).hasToString("[" + big + "][again]");
        }
    }

    @Test
    void aDeviceThatNeverAnswersTimesOutAndSaysItSentNothing() throws Exception {
        FakeBoard board = new FakeBoard(code -> new byte[0], 1) {
            @Override
            void send(byte[] bytes) {
                // silent
            }
        };
        try (RawRepl repl = new RawRepl(board, "t")) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> repl.enter(SHORT))
                    .isInstanceOfSatisfying(DeviceException.class,
                            e -> assertThat(e.kind()).isEqualTo(DeviceException.Kind.TIMEOUT))
                    .hasMessageContaining("raw REPL prompt").hasMessageContaining("sent nothing");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void anExchangeThatTimedOutGoesOnAfterAnInterrupt() throws Exception {
        FakeBoard board = new FakeBoard(code -> bytes("tick\n"), 1);
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            RawRepl.Exchange x = repl.start(bytes("while True: pass"), false, in(Duration.ofSeconds(5)));
            StringBuilder out = new StringBuilder();
            assertThatThrownBy(() -> x.finish(out::append, in(SHORT)))
                    .isInstanceOfSatisfying(DeviceException.class,
                            e -> assertThat(e.kind()).isEqualTo(DeviceException.Kind.TIMEOUT));
            assertThat(out).hasToString("tick\n");
            int before = board.interrupts;
            repl.interrupt();
            assertThat(board.interrupts).isEqualTo(before + 1);
            board.send(bytes("\u0004KeyboardInterrupt: \r\n\u0004>"));
            assertThat(x.finish(out::append, in(Duration.ofSeconds(5))).error()).startsWith("KeyboardInterrupt");
        }
    }

    @Test
    void aLinkThatEndsMidOutputIsLost() throws Exception {
        FakeBoard board = new FakeBoard(code -> bytes("half"), 1);
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            RawRepl.Exchange x = repl.start(bytes("boom()"), false, in(Duration.ofSeconds(5)));
            StringBuilder out = new StringBuilder();
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(100);
                    board.unplug();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertThatThrownBy(() -> x.finish(out::append, in(Duration.ofSeconds(5))))
                    .isInstanceOfSatisfying(DeviceException.class,
                            e -> assertThat(e.kind()).isEqualTo(DeviceException.Kind.LOST));
            assertThat(out).hasToString("half");
        }
    }

    @Test
    void rawPasteSendsTheCodeUnderFlowControl() throws Exception {
        FakeBoard board = new FakeBoard(code -> bytes("[" + code + "]\u0004\u0004>"), 5, FakeBoard.RawPaste.ACCEPT, 8);
        String code = "print('" + "z".repeat(50) + "')";
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            RawRepl.Exchange x = repl.start(bytes(code), true, in(Duration.ofSeconds(5)));
            StringBuilder out = new StringBuilder();
            x.finish(out::append, in(Duration.ofSeconds(5)));
            assertThat(out).hasToString("[" + code + "]");
            assertThat(board.received.toString(StandardCharsets.ISO_8859_1)).contains("\u0005A\u0001");
        }
    }

    @Test
    void aDeviceThatDeclinesRawPasteGetsTheCodeThePlainWay() throws Exception {
        FakeBoard board = new FakeBoard(code -> bytes("[" + code + "]\u0004\u0004>"), 5, FakeBoard.RawPaste.DECLINE, 0);
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            assertThat(repl.probeRawPaste(Duration.ofSeconds(2))).isFalse();
            RawRepl.Exchange x = repl.start(bytes("print(1)"), true, in(Duration.ofSeconds(5)));
            StringBuilder out = new StringBuilder();
            x.finish(out::append, in(Duration.ofSeconds(5)));
            assertThat(out).hasToString("[print(1)]");
        }
    }

    @Test
    void aRawPasteThatIsAcknowledgedThenNeverAnsweredIsDetected() throws Exception {
        FakeBoard board = new FakeBoard(code -> bytes("\u0004\u0004>"), 5, FakeBoard.RawPaste.HANG, 128);
        try (RawRepl repl = new RawRepl(board, "t")) {
            repl.enter(Duration.ofSeconds(5));
            long t0 = System.nanoTime();
            assertThat(repl.probeRawPaste(SHORT)).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        }
    }
}
