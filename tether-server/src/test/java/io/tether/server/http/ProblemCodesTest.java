package io.tether.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.tether.ErrorCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docs/openapi.json's errors are io.tether.ErrorCode's, each under the status the server answers it with. */
class ProblemCodesTest {
    @Test
    void everyErrorCodeIsDocumentedUnderItsStatusAndNoOtherCodeIs() {
        JsonNode doc = OpenApiContract.document();
        List<String> codes = new ArrayList<>();
        doc.at("/components/schemas/Problem/properties/code/enum").forEach(c -> codes.add(c.asText()));
        Map<String, Integer> documented = new HashMap<>();
        doc.at("/components/responses").forEach(r -> {
            JsonNode props = r.at("/content/application~1problem+json/schema/properties");
            int status = props.at("/status/const").asInt();
            props.at("/code/enum").forEach(c -> {
                // 405 is invalid_request on a known route with the wrong method; 502 is
                // node_unavailable from a forwarding node whose holding node failed mid-request
                if (status != 405 && status != 502) {
                    documented.put(c.asText(), status);
                }
            });
        });
        Map<String, Integer> server = new HashMap<>();
        for (ErrorCode code : ErrorCode.values()) {
            server.put(code.code(), Wire.status(code));
        }
        assertThat(codes).containsExactlyInAnyOrderElementsOf(server.keySet());
        assertThat(documented).isEqualTo(server);
    }
}
