package io.tether.runtime;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One output of an execution, in the order the code produced it: Jupyter's display model.
 * Stream text (stdout, stderr), {@code display_data} (what {@code display(obj)} or a
 * matplotlib figure showed) and the {@code execute_result} (the trailing expression's
 * value). A display output or result is a MIME bundle: {@code data} maps a MIME type
 * ({@code text/plain} always, {@code text/html}, {@code image/png}, …) to its value, text for
 * text types, base64 text for binary ones ({@code image/png}, {@code image/jpeg}), JSON data
 * for {@code application/json}; {@code metadata} maps a MIME type to what describes it
 * (e.g. an image's {@code width}). Immutable.
 */
public sealed interface Output {
    /** Jupyter's {@code output_type}: {@code stream}, {@code display_data} or {@code execute_result}. */
    String kind();

    /**
     * Text the code wrote to stdout or stderr (consecutive writes to one stream are one
     * output).
     */
    record StreamText(OutputListener.Stream stream, String text) implements Output {
        public StreamText {
            Objects.requireNonNull(stream, "stream");
            Objects.requireNonNull(text, "text");
        }

        @Override
        public String kind() {
            return "stream";
        }

        /** Jupyter's stream name: {@code stdout} or {@code stderr}. */
        public String name() {
            return stream == OutputListener.Stream.STDOUT ? "stdout" : "stderr";
        }
    }

    /**
     * Something the code displayed while it ran.
     *
     * @param truncated whether values were left out or {@code text/plain} was cut at the
     *                  execution's output cap
     */
    record DisplayData(Map<String, Object> data, Map<String, Object> metadata, boolean truncated) implements Output {
        public DisplayData {
            data = frozen(data);
            metadata = frozen(metadata);
        }

        @Override
        public String kind() {
            return "display_data";
        }
    }

    /**
     * The value of the trailing expression.
     *
     * @param truncated whether values were left out or {@code text/plain} was cut at the
     *                  output cap
     */
    record ExecuteResult(Map<String, Object> data, Map<String, Object> metadata, boolean truncated) implements Output {
        public ExecuteResult {
            data = frozen(data);
            metadata = frozen(metadata);
        }

        @Override
        public String kind() {
            return "execute_result";
        }
    }

    /** An unmodifiable copy in the same order; JSON nulls are kept. */
    private static Map<String, Object> frozen(Map<String, Object> map) {
        return map == null || map.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }
}
