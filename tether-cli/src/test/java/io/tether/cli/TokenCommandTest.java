package io.tether.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tether.server.auth.Principal;
import io.tether.server.auth.TokenStore;
import io.tether.session.SessionManager;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tether token} against a real tokens file in a temporary data directory. */
class TokenCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    record Result(int exit, String out, String err) {
        @SuppressWarnings("unchecked")
        Map<String, Object> json() throws Exception {
            return JSON.readValue(out, Map.class);
        }

        String lastWord() {
            String[] words = out.strip().split("\\s+");
            return words[words.length - 1];
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
    void createEndsWithATokenThatAuthenticatesAsTheOwner() {
        Result alice = tether("token", "create", "--owner", "alice");
        assertThat(alice.exit()).as(alice.err()).isZero();
        assertThat(alice.out()).startsWith("created token ").contains(" for owner alice: ");
        assertThat(TokenStore.open(dataDir).authenticate(alice.lastWord())).contains(new Principal("alice", false));

        Result ops = tether("token", "create", "--owner", "ops", "--admin");
        assertThat(ops.out()).startsWith("created admin token ");
        assertThat(TokenStore.open(dataDir).authenticate(ops.lastWord())).contains(new Principal("ops", true));
    }

    @Test
    void createWithJsonGivesTheTokenAndItsInfo() throws Exception {
        Map<String, Object> created = tether("token", "create", "--owner", "alice", "--json").json();
        assertThat(created).containsEntry("owner", "alice").containsEntry("admin", false)
                .containsKeys("id", "created_at", "token");
        assertThat(TokenStore.open(dataDir).authenticate((String) created.get("token"))).isPresent();
    }

    @Test
    void lsShowsEveryTokenButNoSecret() throws Exception {
        Result a = tether("token", "create", "--owner", "alice");
        Result b = tether("token", "create", "--owner", "bob", "--admin");
        String idA = a.out().split(" ")[2];
        String idB = b.out().split(" ")[3];

        Result ls = tether("token", "ls");
        assertThat(ls.exit()).isZero();
        assertThat(ls.out()).contains(idA, idB, "alice", "bob").doesNotContain("tth_");
        assertThat(ls.out().indexOf(idA)).as("oldest first").isLessThan(ls.out().indexOf(idB));

        Result json = tether("token", "ls", "--json");
        assertThat(json.out()).doesNotContain("tth_");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> tokens = (List<Map<String, Object>>) json.json().get("tokens");
        assertThat(tokens).extracting(t -> t.get("id")).containsExactly(idA, idB);
        assertThat(tokens.get(1)).containsEntry("admin", true).doesNotContainKey("token");
    }

    @Test
    void aRevokedTokenNoLongerAuthenticates() {
        TokenStore running = TokenStore.open(dataDir);
        Result created = tether("token", "create", "--owner", "alice");
        String token = created.lastWord();
        String id = created.out().split(" ")[2];
        assertThat(running.authenticate(token)).isPresent();

        Result revoked = tether("token", "revoke", id);
        assertThat(revoked.exit()).as(revoked.err()).isZero();
        assertThat(revoked.out()).contains("revoked token " + id);
        assertThat(running.authenticate(token)).isEmpty();
        assertThat(tether("token", "ls").out()).doesNotContain(id);
    }

    @Test
    void failuresExitWithTheUsualCodes() throws Exception {
        Result unknown = tether("token", "revoke", "nosuchid");
        assertThat(unknown.exit()).isEqualTo(3);
        assertThat(unknown.err()).contains("token_not_found").contains("nosuchid");

        Result badOwner = tether("token", "create", "--owner", "a\u0001b");
        assertThat(badOwner.exit()).isEqualTo(2);
        assertThat(badOwner.err()).contains("invalid_request").contains("control characters");
        assertThat(tether("token", "create").exit()).as("missing --owner").isEqualTo(2);
        assertThat(tether("token", "revoke").exit()).as("missing id").isEqualTo(2);
        assertThat(tether("token", "ls").out()).doesNotContain("a\u0001b");

        Files.writeString(dataDir.resolve("tokens.json"), "not json");
        Result corrupt = tether("token", "ls");
        assertThat(corrupt.exit()).isEqualTo(6);
        assertThat(corrupt.err()).contains("store_failure").contains("tokens.json").contains("is corrupt");
    }

    @Test
    void worksWhileAServerHoldsTheStore() {
        SessionManager server = EmbeddedTether.open(dataDir);
        try {
            assertThat(tether("sessions", "ls").exit()).as("the store is locked").isEqualTo(6);

            Result created = tether("token", "create", "--owner", "alice");
            assertThat(created.exit()).as(created.err()).isZero();
            assertThat(tether("token", "ls").out()).contains("alice");
            assertThat(tether("token", "revoke", created.out().split(" ")[2]).exit()).isZero();
        } finally {
            server.close();
        }
    }

    @Test
    void helpListsTheOptions() {
        Result help = tether("token", "create", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--owner", "--admin", "--data-dir", "--json");
    }

    @Test
    void theDataDirOptionWinsOverTheEnvironment(@TempDir Path other) {
        Result created = tether("token", "create", "--owner", "alice", "--data-dir", other.toString());
        assertThat(TokenStore.open(other).authenticate(created.lastWord())).isPresent();
        assertThat(dataDir.resolve("tokens.json")).doesNotExist();
    }
}
