package io.tether.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tether.ErrorCode;
import io.tether.TetherException;
import io.tether.server.files.SessionFiles;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the server writes and accepts at its edges, for any input: an event of the execution
 * stream stays one event whatever the code printed, and a file path is either refused with
 * {@code invalid_request} or names an entry under the session's directory the file system
 * can hold. Runs the committed inputs under {@code mvn verify}; fuzz for longer with
 * {@code JAZZER_FUZZ=1} (docs/building.md).
 */
class WireFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void anOutputEventIsOneEventThatGivesBackTheText(FuzzedDataProvider data) throws Exception {
        String text = data.consumeRemainingAsString();

        String event = ExecutionStream.event("stdout", Map.of("text", text));

        assertThat(event).startsWith("event: stdout\ndata: ").endsWith("\n\n");
        String json = event.substring("event: stdout\ndata: ".length(), event.length() - 2);
        assertThat(json).as("a CR or LF would end the data line early").doesNotContain("\n", "\r");
        @SuppressWarnings("unchecked")
        Map<String, Object> back = Wire.MAPPER.readValue(json, Map.class);
        String expected = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8); // lone surrogates become U+FFFD on the wire
        assertThat(back.get("text")).isIn(text, expected);
    }

    @FuzzTest(maxDuration = "30s")
    void aFilePathIsRefusedOrStaysInsideTheDirectory(FuzzedDataProvider data) {
        List<String> rel = new ArrayList<>();
        int parts = data.consumeInt(0, 6);
        for (int i = 0; i < parts; i++) {
            rel.add(data.consumeString(300));
        }
        boolean accepted;
        try {
            SessionFiles.check(rel);
            accepted = true;
        } catch (TetherException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
            accepted = false;
        }
        if (!accepted) {
            return;
        }
        for (String name : rel) {
            // what keeps an openat(2) of each name in turn inside the directory it starts from
            assertThat(name).isNotIn(".", "..").doesNotContain("/", "\0");
            assertThat(name.getBytes(StandardCharsets.UTF_8).length).as("a name the file system can hold: %s", name)
                    .isBetween(1, 255);
        }
    }

    @FuzzTest(maxDuration = "5s")
    void anEmptyPathIsRefused(FuzzedDataProvider data) {
        assertThatThrownBy(() -> SessionFiles.check(List.of())).isInstanceOf(TetherException.class);
    }
}
