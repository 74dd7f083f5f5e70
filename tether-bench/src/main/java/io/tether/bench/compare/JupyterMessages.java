package io.tether.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * The part of the Jupyter messaging protocol (v5) the harness speaks over a kernel's
 * websocket ({@code /api/kernels/{id}/channels}, JSON text frames with a {@code channel}
 * field): an execute_request on the shell channel, and the replies that say it finished.
 */
final class JupyterMessages {
    static final String PROTOCOL_VERSION = "5.3";

    private JupyterMessages() {
    }

    /** An execute_request for the shell channel, as a websocket text frame. */
    static String executeRequest(String msgId, String session, String code, Instant now) {
        ObjectNode m = Http.JSON.createObjectNode();
        ObjectNode header = m.putObject("header");
        header.put("msg_id", msgId);
        header.put("session", session);
        header.put("username", "tether-compare");
        header.put("msg_type", "execute_request");
        header.put("version", PROTOCOL_VERSION);
        header.put("date", now.toString());
        m.putObject("parent_header");
        m.putObject("metadata");
        ObjectNode content = m.putObject("content");
        content.put("code", code);
        content.put("silent", false);
        content.put("store_history", true);
        content.putObject("user_expressions");
        content.put("allow_stdin", false);
        content.put("stop_on_error", true);
        m.putArray("buffers");
        m.put("channel", "shell");
        return m.toString();
    }

    /**
     * What the kernel said so far about one execute_request. It is {@link #done()} once
     * both the execute_reply (shell) and the idle status (iopub) for it arrived: only then
     * is all its output published and the kernel ready for the next request.
     * Not thread-safe.
     */
    static final class Execution {
        private final String msgId;
        private final StringBuilder stdout = new StringBuilder();
        private String result;
        private String replyStatus;
        private JsonNode reply;
        private boolean idle;

        Execution(String msgId) {
            this.msgId = msgId;
        }

        /**
         * Takes one message from the websocket; ignores those about other requests.
         *
         * @return whether the message was about this request
         */
        boolean accept(JsonNode message) {
            if (!msgId.equals(message.path("parent_header").path("msg_id").asText(null))) {
                return false;
            }
            JsonNode content = message.path("content");
            switch (message.path("msg_type").asText()) {
                case "execute_reply" -> {
                    replyStatus = content.path("status").asText();
                    reply = content;
                }
                case "status" -> idle |= "idle".equals(content.path("execution_state").asText());
                case "stream" -> {
                    if ("stdout".equals(content.path("name").asText())) {
                        stdout.append(content.path("text").asText());
                    }
                }
                case "execute_result" -> result = content.path("data").path("text/plain").asText(null);
                default -> { }
            }
            return true;
        }

        boolean done() {
            return replyStatus != null && idle;
        }

        /** The outcome once done. */
        Peer.Reply reply() {
            if (!done()) {
                throw new IllegalStateException("execution " + msgId + " has not finished");
            }
            if (!"ok".equals(replyStatus)) {
                throw new IllegalStateException("execution ended " + replyStatus + ": " + reply);
            }
            return new Peer.Reply(stdout.toString(), result);
        }
    }
}
