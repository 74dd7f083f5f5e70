package io.tether.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tether.ErrorCode;
import io.tether.TetherException;
import java.util.List;

/**
 * Any request body, read as the routes read it: it is one JSON object whose fields come out
 * with the types asked for, or the request is refused with {@code invalid_request}. Any other
 * exception would be a 500. Runs the committed inputs under {@code mvn verify}; fuzz for
 * longer with {@code JAZZER_FUZZ=1} (docs/building.md).
 */
class RequestBodyFuzzTest {
    private static final List<String> FIELDS = List.of("code", "timeout", "network", "data", "metadata", "owner",
            "runtime", "idle_timeout", "key");

    @FuzzTest(maxDuration = "30s")
    void aBodyIsReadOrRefusedAsInvalid(FuzzedDataProvider data) {
        byte[] bytes = data.consumeRemainingAsBytes();
        try {
            JsonBody body = JsonBody.parse(bytes);
            for (String field : FIELDS) {
                readAsEveryType(body, field);
            }
        } catch (TetherException e) {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(e.getMessage()).isNotBlank();
        }
    }

    private static void readAsEveryType(JsonBody body, String field) {
        for (int kind = 0; kind < 5; kind++) {
            try {
                switch (kind) {
                    case 0 -> body.string(field);
                    case 1 -> body.bool(field, false);
                    case 2 -> body.object(field);
                    case 3 -> body.seconds(field);
                    default -> body.has(field);
                }
            } catch (TetherException e) {
                assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.INVALID_REQUEST);
            }
        }
    }
}
