package io.tether.client;

import java.util.Base64;
import java.util.Map;
import java.util.Objects;

/**
 * One output of an execution, in the order the code produced it (Jupyter's display model):
 * {@link Stream} text, {@link DisplayData} (what {@code display(obj)} or a matplotlib figure
 * showed) and the {@link ExecuteResult} (the trailing expression's value). See
 * {@link Execution#outputs()} and {@link ExecutionEvent.Display}.
 */
public sealed interface ExecutionOutput {
    /** Jupyter's {@code output_type}: {@code stream}, {@code display_data} or {@code execute_result}. */
    String type();

    /**
     * Text the code wrote; consecutive writes to one stream are one output.
     *
     * @param name {@code stdout} or {@code stderr}
     */
    record Stream(String name, String text) implements ExecutionOutput {
        public Stream {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(text, "text");
        }

        @Override
        public String type() {
            return "stream";
        }
    }

    /**
     * A MIME bundle: {@code data} maps a MIME type to its value (text for text types, base64
     * text for binary ones such as {@code image/png}, JSON for {@code application/json});
     * {@code metadata} maps a MIME type to what describes it (an image's {@code width}, …).
     */
    sealed interface Bundle extends ExecutionOutput {
        Map<String, Object> data();

        Map<String, Object> metadata();

        /** Whether values were left out, or {@code text/plain} cut, at the server's output caps. */
        boolean truncated();

        /** The {@code text/plain} form, or {@code null}. */
        default String text() {
            return data().get("text/plain") instanceof String s ? s : null;
        }

        /**
         * The bytes of a binary MIME type ({@code image/png}, {@code image/jpeg}), decoded from
         * base64; {@code null} when the bundle does not have it.
         *
         * @throws IllegalArgumentException when the value is not base64
         */
        default byte[] bytes(String mimeType) {
            return data().get(mimeType) instanceof String s ? Base64.getMimeDecoder().decode(s) : null;
        }
    }

    /** Something the code displayed while it ran. */
    record DisplayData(Map<String, Object> data, Map<String, Object> metadata, boolean truncated) implements Bundle {
        public DisplayData {
            data = Wire.frozen(data);
            metadata = Wire.frozen(metadata);
        }

        @Override
        public String type() {
            return "display_data";
        }
    }

    /** The value of the trailing expression (the same bundle as {@link Execution#result()}). */
    record ExecuteResult(Map<String, Object> data, Map<String, Object> metadata, boolean truncated)
            implements Bundle {
        public ExecuteResult {
            data = Wire.frozen(data);
            metadata = Wire.frozen(metadata);
        }

        @Override
        public String type() {
            return "execute_result";
        }
    }
}
