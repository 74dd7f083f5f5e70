package io.tether.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against a real SQLite store in a temporary data directory. */
class TetherCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    record Result(int exit, String out, String err) {
        @SuppressWarnings("unchecked")
        Map<String, Object> json() throws Exception {
            return JSON.readValue(out, Map.class);
        }
    }

    private Result tether(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = TetherCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true),
                Map.of("TETHER_DATA_DIR", dataDir.toString()));
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void createShowTouchUpdateEndRoundTripThroughTheStore() throws Exception {
        Result created = tether("sessions", "create", "--owner", "alice", "--data", "{\"n\":1}", "--json");
        assertThat(created.exit()).as(created.err()).isZero();
        String id = (String) created.json().get("id");
        assertThat(created.json()).containsEntry("owner", "alice").containsEntry("status", "active")
                .containsEntry("idle_timeout", 1800).containsEntry("data", Map.of("n", 1));

        assertThat(tether("sessions", "touch", id).exit()).isZero();
        Result updated = tether("sessions", "update", id, "--data", "{\"n\":null,\"m\":[1]}", "--json");
        assertThat(updated.json()).containsEntry("data", Map.of("m", List.of(1)))
                .containsEntry("interaction_count", 2).containsEntry("version", 2);

        Result ended = tether("sessions", "end", id, "--reason", "done", "--json");
        assertThat(ended.json()).containsEntry("status", "ended").containsEntry("end_reason", "done");
        Result shown = tether("sessions", "show", id, "--json");
        assertThat(shown.json()).isEqualTo(ended.json());
    }

    @Test
    void listShowsActiveSessionsAndAllWithAll() throws Exception {
        String a = (String) tether("sessions", "create", "--owner", "alice", "--json").json().get("id");
        String b = (String) tether("sessions", "create", "--owner", "bob", "--json").json().get("id");
        assertThat(tether("sessions", "end", b).exit()).isZero();

        Result active = tether("sessions", "ls");
        assertThat(active.out()).contains(a).doesNotContain(b);
        assertThat(tether("sessions", "ls", "--all").out()).contains(a).contains(b);
        assertThat(tether("sessions", "ls", "--owner", "bob", "--status", "ended").out()).contains(b).doesNotContain(a);
    }

    @Test
    void getOrCreateWithAKeyReusesTheSession() throws Exception {
        Object first = tether("sessions", "create", "--owner", "a", "--key", "k", "--json").json().get("id");
        Object second = tether("sessions", "create", "--owner", "a", "--key", "k", "--json").json().get("id");
        assertThat(second).isEqualTo(first);
    }

    @Test
    void statsCountWhatTheStoreHolds() throws Exception {
        tether("sessions", "create", "--owner", "alice");
        String id = (String) tether("sessions", "create", "--owner", "alice", "--json").json().get("id");
        tether("sessions", "end", id);

        Map<String, Object> stats = tether("stats", "--json").json();
        assertThat(stats).containsEntry("active", 1).containsEntry("total_created", 2)
                .containsEntry("ended_by_reason", Map.of("manual", 1))
                .containsEntry("active_by_owner", Map.of("alice", 1));
    }

    @Test
    void demoRunsAndItsSessionsSurviveToTheNextRun() {
        Result first = tether("demo");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("get-or-create").contains("reused it").contains("ended")
                .contains("area(radius) -> 12.566").contains("stdout: computing...")
                .contains("its interpreter process is gone");
        assertThat(dataDir.resolve("work")).isEmptyDirectory();
        Result second = tether("demo");
        assertThat(second.out()).contains("found 1 active sessions from earlier runs");
    }

    @Test
    void failuresExitWithMeaningfulCodesAndClearMessages() {
        Result missing = tether("sessions", "show", "nope");
        assertThat(missing.exit()).isEqualTo(3);
        assertThat(missing.err()).contains("session_not_found").contains("nope");

        String id = tether("sessions", "create", "--owner", "a").out().lines()
                .filter(l -> l.startsWith("id ")).findFirst().orElseThrow().substring(3).trim();
        tether("sessions", "end", id);
        assertThat(tether("sessions", "touch", id).exit()).isEqualTo(4);

        Result badJson = tether("sessions", "create", "--owner", "a", "--data", "{oops");
        assertThat(badJson.exit()).isEqualTo(2);
        assertThat(badJson.err()).contains("--data is not valid JSON");
        assertThat(tether("sessions", "create", "--owner", "a", "--data", "[1]").err())
                .contains("must be a JSON object");
        assertThat(tether("sessions", "create", "--owner", "a", "--idle-timeout", "soon").err())
                .contains("is not a duration");
        assertThat(tether("sessions", "ls", "--status", "sleeping").exit()).isEqualTo(2);
        assertThat(tether("sessions", "create").exit()).as("missing --owner").isEqualTo(2);
        assertThat(tether("sessions", "end", id, "--reason", "Not Snake").exit()).isEqualTo(2);
    }

    @Test
    void rejectedInputChangesNothing() throws Exception {
        tether("sessions", "create", "--owner", "a", "--data", "{oops");
        tether("sessions", "create", "--owner", "", "--json");
        assertThat(tether("stats", "--json").json()).containsEntry("total_created", 0);
    }
}
