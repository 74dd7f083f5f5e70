package io.tether.client;

import java.util.Map;
import java.util.Objects;

/**
 * One event of a streamed execution, in the order the server sends them: {@link Start},
 * then {@link Stdout}, {@link Stderr} and {@link Display} in the order the code writes and
 * displays (and {@link InputRequest} when it waits for input), then {@link Result} (only when
 * there is a value), {@link Error} (only when it raised) and always {@link End} last.
 */
public sealed interface ExecutionEvent {

    /** The execution began: its number is known (fetch it by number if the stream is lost). */
    record Start(String sessionId, long number) implements ExecutionEvent {
        public Start {
            Objects.requireNonNull(sessionId, "sessionId");
        }
    }

    /** Text the code wrote to standard output. */
    record Stdout(String text) implements ExecutionEvent {
        public Stdout {
            Objects.requireNonNull(text, "text");
        }
    }

    /** Text the code wrote to standard error. */
    record Stderr(String text) implements ExecutionEvent {
        public Stderr {
            Objects.requireNonNull(text, "text");
        }
    }

    /** Something the code displayed (an image, a table, …), in order with the text around it. */
    record Display(ExecutionOutput.DisplayData output) implements ExecutionEvent {
        public Display {
            Objects.requireNonNull(output, "output");
        }
    }

    /** The value of a trailing expression as a MIME bundle. */
    record Result(Map<String, Object> bundle) implements ExecutionEvent {
        public Result {
            bundle = Wire.frozen(bundle);
        }
    }

    /** The exception the code raised. */
    record Error(ExecutionError error) implements ExecutionEvent {
        public Error {
            Objects.requireNonNull(error, "error");
        }
    }

    /**
     * The code waits for a line of input ({@code input()}, {@code getpass}, a read of
     * {@code System.in}); answer with {@link TetherClient#input} (or
     * {@link AutoSession#input}). Its timeout keeps running; an interrupt ends the wait.
     *
     * @param prompt   what the code asked with (not part of its stdout); may be empty
     * @param password whether the answer is a secret not to be echoed ({@code getpass})
     */
    record InputRequest(String prompt, boolean password) implements ExecutionEvent {
        public InputRequest {
            Objects.requireNonNull(prompt, "prompt");
        }
    }

    /** The whole execution, as a synchronous call would have answered it; always last. */
    record End(Execution execution) implements ExecutionEvent {
        public End {
            Objects.requireNonNull(execution, "execution");
        }
    }
}
