package io.tether.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens in a real data directory, with a second instance standing in for another process. */
class TokenStoreTest {
    @TempDir
    Path dataDir;

    @Test
    void aCreatedTokenAuthenticatesAsItsOwnerUntilRevoked() {
        TokenStore tokens = TokenStore.open(dataDir);
        CreatedToken alice = tokens.create("alice", false);
        CreatedToken ops = tokens.create("ops", true);

        assertThat(tokens.authenticate(alice.token())).contains(new Principal("alice", false));
        assertThat(tokens.authenticate(ops.token())).contains(new Principal("ops", true));

        assertThat(tokens.revoke(alice.info().id())).isTrue();
        assertThat(tokens.authenticate(alice.token())).isEmpty();
        assertThat(tokens.authenticate(ops.token())).isPresent();
        assertThat(tokens.revoke(alice.info().id())).as("already revoked").isFalse();
        assertThat(tokens.revoke("nosuchid")).isFalse();
    }

    @Test
    void tokensAreLongRandomAndUrlSafeWithAShortPublicId() {
        TokenStore tokens = TokenStore.open(dataDir);
        CreatedToken a = tokens.create("alice", false);
        CreatedToken b = tokens.create("alice", false);

        assertThat(a.token()).startsWith("tth_").hasSize(4 + 43).matches("tth_[A-Za-z0-9_-]{43}");
        assertThat(a.token()).isNotEqualTo(b.token());
        assertThat(a.info().id()).matches("[0-9a-f]{10}").isNotEqualTo(b.info().id());
        assertThat(a.toString()).doesNotContain(a.token());
    }

    @Test
    void onlyHashesReachTheDisk() throws Exception {
        TokenStore tokens = TokenStore.open(dataDir);
        CreatedToken created = tokens.create("alice", false);

        String file = Files.readString(dataDir.resolve("tokens.json"));
        String secret = created.token().substring("tth_".length());
        assertThat(file).doesNotContain(secret)
                .contains(HexFormat.of().formatHex(TokenStore.sha256(created.token())))
                .contains(created.info().id()).contains("alice");
    }

    @Test
    void filesAreOwnerOnly() throws Exception {
        Path fresh = dataDir.resolve("fresh");
        TokenStore tokens = TokenStore.open(fresh);
        tokens.create("alice", false);

        assertThat(mode(fresh)).isEqualTo("rwx------");
        assertThat(mode(fresh.resolve("tokens.json"))).isEqualTo("rw-------");
        assertThat(mode(fresh.resolve("tokens.lock"))).isEqualTo("rw-------");
        assertThat(leftovers(fresh)).as("no temporary files left")
                .containsExactlyInAnyOrder("tokens.json", "tokens.lock");
    }

    @Test
    void anotherInstanceSeesCreatesAndRevokesWithoutRestart() {
        TokenStore server = TokenStore.open(dataDir);
        TokenStore cli = TokenStore.open(dataDir);
        assertThat(server.list()).isEmpty();

        CreatedToken created = cli.create("alice", false);
        assertThat(server.authenticate(created.token())).contains(new Principal("alice", false));
        assertThat(server.list()).containsExactly(created.info());

        assertThat(cli.revoke(created.info().id())).isTrue();
        assertThat(server.authenticate(created.token())).isEmpty();
        assertThat(server.list()).isEmpty();

        CreatedToken again = cli.create("bob", false);
        assertThat(server.authenticate(again.token())).contains(new Principal("bob", false));
    }

    @Test
    void concurrentCreatesFromThreadsAndInstancesLoseNothing() throws Exception {
        List<TokenStore> stores = List.of(TokenStore.open(dataDir), TokenStore.open(dataDir));
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<CreatedToken>> futures = new ArrayList<>();
        try {
            for (int i = 0; i < 60; i++) {
                TokenStore store = stores.get(i % 2);
                String owner = "owner-" + i;
                futures.add(pool.submit(() -> store.create(owner, false)));
            }
            List<CreatedToken> created = new ArrayList<>();
            for (Future<CreatedToken> f : futures) {
                created.add(f.get(30, TimeUnit.SECONDS));
            }

            TokenStore reader = TokenStore.open(dataDir);
            assertThat(reader.list()).hasSize(60);
            for (CreatedToken t : created) {
                assertThat(reader.authenticate(t.token())).contains(new Principal(t.info().owner(), false));
                assertThat(stores.get(0).authenticate(t.token())).isPresent();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anotherProcessCreatingAtTheSameTimeLosesNothing() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                TokenCreator.class.getName(), dataDir.toString(), "40")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> childTokens = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(lines.readLine()).isEqualTo("started");
            TokenStore tokens = TokenStore.open(dataDir);
            List<CreatedToken> mine = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                mine.add(tokens.create("parent", false));
            }
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                childTokens.add(line);
            }
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isZero();

            assertThat(childTokens).hasSize(40);
            assertThat(tokens.list()).hasSize(80);
            for (String t : childTokens) {
                assertThat(tokens.authenticate(t)).contains(new Principal("child", false));
            }
            for (CreatedToken t : mine) {
                assertThat(tokens.authenticate(t.token())).contains(new Principal("parent", false));
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void listIsOldestFirstAndNeverHoldsASecret() {
        Instant[] now = {Instant.parse("2025-01-01T00:00:00.123456Z")};
        TokenStore tokens = TokenStore.open(dataDir, () -> now[0]);
        CreatedToken first = tokens.create("alice", false);
        now[0] = now[0].plusSeconds(60);
        CreatedToken second = tokens.create("bob", true);

        assertThat(tokens.list()).containsExactly(first.info(), second.info());
        assertThat(first.info().createdAt()).isEqualTo(Instant.parse("2025-01-01T00:00:00.123Z"));
        assertThat(tokens.list().toString()).doesNotContain("tth_");
    }

    @Test
    void ownersAreValidatedAndABadOneStoresNothing() {
        TokenStore tokens = TokenStore.open(dataDir);
        for (String bad : new String[] {"", " ", "a".repeat(129), "al\nice", "tab\there", "nul\0"}) {
            assertThatThrownBy(() -> tokens.create(bad, false)).isInstanceOf(TetherException.class)
                    .extracting(e -> ((TetherException) e).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        }
        assertThatThrownBy(() -> tokens.create("al\u0007ice", false)).hasMessageContaining("U+0007 at index 2");
        assertThat(tokens.list()).isEmpty();

        assertThat(tokens.create("a".repeat(128), false).info().owner()).hasSize(128);
        assertThat(tokens.create("Ålice Ünïcode ✓", false).info().owner()).isEqualTo("Ålice Ünïcode ✓");
    }

    @Test
    void malformedOrUnknownTokensDoNotAuthenticate() {
        TokenStore tokens = TokenStore.open(dataDir);
        CreatedToken t = tokens.create("alice", false);
        String token = t.token();
        char last = token.charAt(token.length() - 1);
        String changed = token.substring(0, token.length() - 1) + (last == 'A' ? 'B' : 'A');

        assertThat(tokens.authenticate(null)).isEmpty();
        assertThat(tokens.authenticate("")).isEmpty();
        assertThat(tokens.authenticate("tth_")).isEmpty();
        assertThat(tokens.authenticate(changed)).isEmpty();
        assertThat(tokens.authenticate(token.substring(4))).as("without the prefix").isEmpty();
        assertThat(tokens.authenticate(token + "x")).isEmpty();
        assertThat(tokens.authenticate("tth_" + "x".repeat(10_000))).isEmpty();
        assertThat(tokens.authenticate(t.info().id())).as("the public id is no credential").isEmpty();
    }

    @Test
    void aCorruptFileIsReportedWithItsPathAndTheProblem() throws Exception {
        TokenStore running = TokenStore.open(dataDir);
        CreatedToken t = running.create("alice", false);
        Path file = dataDir.resolve("tokens.json");

        Files.writeString(file, "{\"version\": 1, \"tokens\": [ {\"id\": ");
        assertThatThrownBy(() -> TokenStore.open(dataDir)).isInstanceOf(TetherException.class)
                .hasMessageContaining(file.toRealPath().toString()).hasMessageContaining("is corrupt")
                .hasMessageContaining("not valid JSON")
                .extracting(e -> ((TetherException) e).code()).isEqualTo(ErrorCode.STORE_FAILURE);
        assertThatThrownBy(() -> running.authenticate(t.token())).as("fails closed")
                .hasMessageContaining("is corrupt");

        String valid = "{\"id\":\"abc\",\"owner\":\"alice\",\"admin\":false,\"created_at\":\"2025-01-01T00:00:00Z\","
                + "\"sha256\":\"" + "ab".repeat(32) + "\"}";
        assertCorrupt("", "the file is empty");
        assertCorrupt("[]", "expected a JSON object");
        assertCorrupt("{\"tokens\": []}", "\"version\" is missing");
        assertCorrupt("{\"version\": 2, \"tokens\": []}", "format version 2 is not supported");
        assertCorrupt("{\"version\": 1}", "\"tokens\" is missing");
        assertCorrupt("{\"version\": 1, \"tokens\": [" + valid.replace("\"ab", "\"zz") + "]}",
                "tokens[0].sha256 must be 64 hexadecimal characters");
        assertCorrupt("{\"version\": 1, \"tokens\": [" + valid.replace("2025-01-01T00:00:00Z", "yesterday") + "]}",
                "tokens[0].created_at is not an ISO-8601 instant");
        assertCorrupt("{\"version\": 1, \"tokens\": [" + valid + "," + valid.replace("false", "\"no\"") + "]}",
                "tokens[1].admin is missing or not true/false");
        assertCorrupt("{\"version\": 1, \"tokens\": [" + valid + "," + valid + "]}", "tokens[1]: id abc appears twice");
        assertCorrupt("{\"version\": 1, \"tokens\": [" + valid.replace("\"alice\"", "\"\"") + "]}",
                "tokens[0].owner is missing");
    }

    @Test
    void ensureAdminTokenCreatesOneOnceAndWritesItsSecretOwnerOnly() throws Exception {
        TokenStore tokens = TokenStore.open(dataDir);
        tokens.create("alice", false);

        CreatedToken admin = tokens.ensureAdminToken().orElseThrow();
        assertThat(tokens.adminTokenFile()).isEqualTo(dataDir.toRealPath().resolve("admin-token"));
        assertThat(Files.readString(tokens.adminTokenFile())).isEqualTo(admin.token() + "\n");
        assertThat(mode(tokens.adminTokenFile())).isEqualTo("rw-------");
        assertThat(admin.info().owner()).isEqualTo("admin");
        assertThat(tokens.authenticate(admin.token())).contains(new Principal("admin", true));

        assertThat(tokens.ensureAdminToken()).isEmpty();
        assertThat(TokenStore.open(dataDir).ensureAdminToken()).as("a later start").isEmpty();
        assertThat(Files.readString(tokens.adminTokenFile())).isEqualTo(admin.token() + "\n");
        assertThat(tokens.list()).filteredOn(TokenInfo::admin).hasSize(1);
    }

    @Test
    void ensureAdminTokenKeepsAnAdminTokenMadeWithTheCliAndReplacesOneThatWasRevoked() throws Exception {
        TokenStore tokens = TokenStore.open(dataDir);
        CreatedToken ops = tokens.create("ops", true);
        assertThat(tokens.ensureAdminToken()).isEmpty();
        assertThat(tokens.adminTokenFile()).doesNotExist();

        tokens.revoke(ops.info().id());
        CreatedToken fresh = tokens.ensureAdminToken().orElseThrow();
        assertThat(Files.readString(tokens.adminTokenFile()).strip()).isEqualTo(fresh.token());
    }

    private void assertCorrupt(String content, String problem) throws Exception {
        Files.writeString(dataDir.resolve("tokens.json"), content);
        assertThatThrownBy(() -> TokenStore.open(dataDir)).isInstanceOf(TetherException.class)
                .hasMessageContaining(problem);
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static Set<String> leftovers(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return Set.copyOf(files.map(p -> p.getFileName().toString()).toList());
        }
    }

    /** Another process creating tokens: {@code main(dataDir, count)} prints each token on its own line. */
    static final class TokenCreator {
        public static void main(String[] args) {
            System.out.println("started");
            System.out.flush();
            TokenStore tokens = TokenStore.open(Path.of(args[0]));
            for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                System.out.println(tokens.create("child", false).token());
            }
        }
    }
}
