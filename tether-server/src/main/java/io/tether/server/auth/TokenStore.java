package io.tether.server.auth;

import io.tether.TetherException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The bearer tokens of a data directory: created, listed, revoked and checked.
 *
 * <p>A token is {@code tth_} followed by 32 random bytes from {@link SecureRandom} in
 * URL-safe base64 (47 characters in all). Only its SHA-256 hash is stored, in
 * {@code <dataDir>/tokens.json} (or a PostgreSQL store's {@code tokens} table, see
 * {@link #inDatabase}) next to a short public id, its owner, its admin flag and
 * its creation time; the secret is shown once, by {@link #create} (or
 * {@link #ensureAdminToken}), and can never be shown again.
 *
 * <p>Contract:
 * <ul>
 *   <li>Thread-safe, and safe to use from several processes on one data directory (the
 *       CLI while a server runs): writers take a lock on {@code <dataDir>/tokens.lock} and
 *       replace the file atomically, so concurrent creates and revokes lose nothing and a
 *       reader never sees half a file.</li>
 *   <li>{@link #authenticate} and {@link #list} see tokens created and revoked by other
 *       instances and processes without a restart: each call stats the file and reloads it
 *       when its modification time, size or identity changed; otherwise it uses the parsed
 *       content kept in memory.</li>
 *   <li>Files are created owner-only ({@code 0600}; the directory {@code 0700} when this
 *       creates it) where the file system has POSIX permissions.</li>
 *   <li>Every method may throw {@link TetherException} {@code store_failure} when the
 *       tokens file cannot be read or written or is corrupt; the message names the file and
 *       what is wrong. Authentication then fails closed: it throws rather than guessing.</li>
 * </ul>
 *
 * <pre>{@code
 * TokenStore tokens = TokenStore.open(Path.of("tether-data"));
 * tokens.ensureAdminToken().ifPresent(t -> log.info("admin token written to {}", tokens.adminTokenFile()));
 * Optional<Principal> who = tokens.authenticate(bearerToken);
 * }</pre>
 */
public final class TokenStore {
    /** What every token starts with, so leaked tokens are easy to recognise and scan for. */
    static final String TOKEN_PREFIX = "tth_";
    /** Longest owner name, in characters. */
    static final int MAX_OWNER_LENGTH = 128;
    static final String ADMIN_OWNER = "admin";
    static final String ADMIN_TOKEN_FILE = "admin-token";
    private static final int SECRET_BYTES = 32;
    private static final int ID_BYTES = 5;
    /** Longer than any token this creates; longer input is rejected before hashing. */
    private static final int MAX_TOKEN_LENGTH = 256;
    private static final HexFormat HEX = HexFormat.of();

    private final TokenRecords records;
    private final Path directory;
    private final InstantSource clock;
    private final SecureRandom random = new SecureRandom();

    private TokenStore(TokenRecords records, Path directory, InstantSource clock) {
        this.records = records;
        this.directory = directory;
        this.clock = clock;
    }

    /**
     * The tokens of {@code dataDirectory}, which is created when missing. Reads the tokens
     * file at once, so a corrupt file fails here rather than at the first request.
     *
     * @throws TetherException {@code store_failure} when the directory cannot be created or
     *     the tokens file cannot be read or is corrupt
     */
    public static TokenStore open(Path dataDirectory) {
        return open(dataDirectory, InstantSource.system());
    }

    static TokenStore open(Path dataDirectory, InstantSource clock) {
        Objects.requireNonNull(dataDirectory, "dataDirectory");
        TokenFile file = TokenFile.in(dataDirectory);
        return new TokenStore(new FileTokenRecords(file), file.directory(), Objects.requireNonNull(clock, "clock"));
    }

    /**
     * The tokens of a PostgreSQL store (its {@code tokens} table), shared by every node using
     * that database; {@code dataDirectory} only receives the {@linkplain #adminTokenFile admin
     * token file} when {@link #ensureAdminToken} creates one. Nothing is cached: every
     * {@link #authenticate} reads the table, so a revocation holds on every node at once.
     *
     * @param database the store's connections
     * @param name     the database as it may be shown, without its password
     */
    public static TokenStore inDatabase(DataSource database, String name, Path dataDirectory) {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(dataDirectory, "dataDirectory");
        return new TokenStore(new PostgresTokenRecords(database, name), dataDirectory, InstantSource.system());
    }

    /** The files the tokens of {@code dataDirectory} are kept in: secrets, to be owner-only. */
    public static List<Path> files(Path dataDirectory) {
        return List.of(dataDirectory.resolve(TokenFile.FILE_NAME), dataDirectory.resolve(TokenFile.LOCK_NAME),
                dataDirectory.resolve(ADMIN_TOKEN_FILE));
    }

    /**
     * Creates a token for {@code owner} and stores its hash. The returned secret is the only
     * copy.
     *
     * @param owner 1 to 128 characters, not blank, no control characters
     * @param admin whether the token sees every owner's sessions
     * @throws TetherException {@code invalid_request} for a bad owner (nothing is stored)
     */
    public CreatedToken create(String owner, boolean admin) {
        String problem = ownerProblem(owner);
        if (problem != null) {
            throw TetherException.invalid(problem);
        }
        return records.change(entries -> {
            Generated g = generate(owner, admin, entries);
            return new TokenRecords.Outcome<>(append(entries, g.entry()), g.created());
        });
    }

    /** Every token, oldest first. Never a secret. */
    public List<TokenInfo> list() {
        return records.current().stream().map(TokenFile.Entry::info)
                .sorted(Comparator.comparing(TokenInfo::createdAt)).toList();
    }

    /**
     * Revokes the token with this public id: from now on it authenticates nowhere (a server
     * using another instance sees it at its next request).
     *
     * @return false when no token has this id
     */
    public boolean revoke(String id) {
        Objects.requireNonNull(id, "id");
        return records.change(entries -> {
            List<TokenFile.Entry> kept = entries.stream().filter(e -> !e.info().id().equals(id)).toList();
            return kept.size() == entries.size() ? new TokenRecords.Outcome<>(null, false)
                    : new TokenRecords.Outcome<>(kept, true);
        });
    }

    /**
     * Who {@code token} acts for, or empty when it is not a current token (also for null,
     * blank or malformed input).
     *
     * @implNote The presented token's SHA-256 is compared with every stored hash by
     *     {@link MessageDigest#isEqual} without stopping at a match, so the time taken does not
     *     depend on which, or how much of a, stored hash matches. The cost is linear in the
     *     number of tokens, a few nanoseconds each.
     */
    public Optional<Principal> authenticate(String token) {
        if (token == null || token.length() > MAX_TOKEN_LENGTH || !token.startsWith(TOKEN_PREFIX)) {
            return Optional.empty();
        }
        byte[] presented = sha256(token);
        TokenInfo match = null;
        for (TokenFile.Entry e : records.current()) {
            if (MessageDigest.isEqual(e.sha256(), presented)) {
                match = e.info();
            }
        }
        return match == null ? Optional.empty() : Optional.of(new Principal(match.owner(), match.admin()));
    }

    /**
     * Makes sure an admin token exists, for a server's first start. When the tokens file
     * holds no admin token (the first start, or after every admin token was revoked), creates
     * one for owner {@code admin}, writes its secret to {@link #adminTokenFile()} (mode
     * {@code 0600}, replacing any earlier one) and returns it; otherwise returns empty and
     * changes nothing. The secret file is written before the token is stored, so a crash in
     * between leaves no admin token whose secret nobody has.
     */
    public Optional<CreatedToken> ensureAdminToken() {
        return records.change(entries -> {
            if (entries.stream().anyMatch(e -> e.info().admin())) {
                return new TokenRecords.Outcome<>(null, Optional.<CreatedToken>empty());
            }
            Generated g = generate(ADMIN_OWNER, true, entries);
            TokenFile.replaceOwnerOnly(adminTokenFile(), (g.created().token() + "\n").getBytes(StandardCharsets.UTF_8));
            return new TokenRecords.Outcome<>(append(entries, g.entry()), Optional.of(g.created()));
        });
    }

    /** Where {@link #ensureAdminToken()} writes the admin token's secret: {@code <dataDir>/admin-token}. */
    public Path adminTokenFile() {
        return directory.resolve(ADMIN_TOKEN_FILE);
    }

    /** Why {@code owner} is not a valid owner name, or null when it is. */
    static String ownerProblem(String owner) {
        if (owner == null || owner.isEmpty() || owner.length() > MAX_OWNER_LENGTH) {
            return "owner must be 1 to " + MAX_OWNER_LENGTH + " characters, got "
                    + (owner == null ? "none" : owner.length());
        }
        if (owner.isBlank()) {
            return "owner must not be blank";
        }
        for (int i = 0; i < owner.length(); i++) {
            if (Character.isISOControl(owner.charAt(i))) {
                return String.format("owner must not contain control characters, found U+%04X at index %d",
                        (int) owner.charAt(i), i);
            }
        }
        return null;
    }

    private record Generated(TokenFile.Entry entry, CreatedToken created) {
    }

    private Generated generate(String owner, boolean admin, List<TokenFile.Entry> existing) {
        String id;
        do {
            id = HEX.formatHex(randomBytes(ID_BYTES));
        } while (hasId(existing, id));
        String token = TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(SECRET_BYTES));
        TokenInfo info = new TokenInfo(id, owner, admin, clock.instant().truncatedTo(ChronoUnit.MILLIS));
        return new Generated(new TokenFile.Entry(info, sha256(token)), new CreatedToken(info, token));
    }

    private static boolean hasId(List<TokenFile.Entry> entries, String id) {
        return entries.stream().anyMatch(e -> e.info().id().equals(id));
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static List<TokenFile.Entry> append(List<TokenFile.Entry> entries, TokenFile.Entry entry) {
        List<TokenFile.Entry> all = new ArrayList<>(entries.size() + 1);
        all.addAll(entries);
        all.add(entry);
        return List.copyOf(all);
    }


    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
