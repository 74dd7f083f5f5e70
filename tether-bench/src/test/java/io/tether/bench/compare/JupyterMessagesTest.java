package io.tether.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class JupyterMessagesTest {

    @Test
    void anExecuteRequestCarriesTheV5HeaderAndContent() throws Exception {
        JsonNode m = Http.JSON.readTree(JupyterMessages.executeRequest("m1", "s1", "x = x + 1",
                Instant.parse("2026-11-21T22:00:00Z")));

        assertThat(m.path("channel").asText()).isEqualTo("shell");
        JsonNode h = m.path("header");
        assertThat(h.path("msg_id").asText()).isEqualTo("m1");
        assertThat(h.path("session").asText()).isEqualTo("s1");
        assertThat(h.path("msg_type").asText()).isEqualTo("execute_request");
        assertThat(h.path("version").asText()).isEqualTo("5.3");
        assertThat(h.path("date").asText()).isEqualTo("2026-11-21T22:00:00Z");
        assertThat(m.path("parent_header").isObject()).isTrue();
        JsonNode c = m.path("content");
        assertThat(c.path("code").asText()).isEqualTo("x = x + 1");
        assertThat(c.path("silent").asBoolean(true)).isFalse();
        assertThat(c.path("store_history").asBoolean()).isTrue();
        assertThat(c.path("user_expressions").isObject()).isTrue();
        assertThat(c.path("allow_stdin").asBoolean(true)).isFalse();
        assertThat(c.path("stop_on_error").asBoolean()).isTrue();
    }

    @Test
    void anExecutionIsDoneAfterBothItsReplyAndTheIdleStatusWhateverTheOrder() throws Exception {
        JupyterMessages.Execution e = new JupyterMessages.Execution("m1");

        assertThat(e.accept(msg("m1", "status", "{\"execution_state\": \"busy\"}"))).isTrue();
        assertThat(e.accept(msg("m1", "stream", "{\"name\": \"stdout\", \"text\": \"hello, \"}"))).isTrue();
        assertThat(e.accept(msg("m1", "stream", "{\"name\": \"stderr\", \"text\": \"warning\"}"))).isTrue();
        assertThat(e.accept(msg("m1", "stream", "{\"name\": \"stdout\", \"text\": \"world\\n\"}"))).isTrue();
        assertThat(e.accept(msg("m1", "execute_result", "{\"data\": {\"text/plain\": \"42\"}}"))).isTrue();
        assertThat(e.accept(msg("m1", "status", "{\"execution_state\": \"idle\"}"))).isTrue();
        assertThat(e.done()).isFalse();
        e.accept(msg("m1", "execute_reply", "{\"status\": \"ok\"}"));

        assertThat(e.done()).isTrue();
        assertThat(e.reply()).isEqualTo(new Peer.Reply("hello, world\n", "42"));
    }

    @Test
    void messagesAboutOtherRequestsAreIgnored() throws Exception {
        JupyterMessages.Execution e = new JupyterMessages.Execution("m1");

        assertThat(e.accept(msg("other", "execute_reply", "{\"status\": \"ok\"}"))).isFalse();
        assertThat(e.accept(msg("other", "status", "{\"execution_state\": \"idle\"}"))).isFalse();
        assertThat(e.accept(Http.JSON.readTree("{\"msg_type\": \"status\", \"parent_header\": {}}"))).isFalse();
        assertThat(e.done()).isFalse();
    }

    @Test
    void anErrorReplyFailsTheExecution() throws Exception {
        JupyterMessages.Execution e = new JupyterMessages.Execution("m1");
        e.accept(msg("m1", "execute_reply", "{\"status\": \"error\", \"ename\": \"NameError\"}"));
        e.accept(msg("m1", "status", "{\"execution_state\": \"idle\"}"));

        assertThatThrownBy(e::reply).isInstanceOf(IllegalStateException.class).hasMessageContaining("NameError");
    }

    private static JsonNode msg(String parent, String type, String content) throws Exception {
        return Http.JSON.readTree("{\"parent_header\": {\"msg_id\": \"" + parent + "\"}, \"msg_type\": \"" + type
                + "\", \"content\": " + content + "}");
    }
}
