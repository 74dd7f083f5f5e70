package io.tether.server.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.ErrorCode;
import io.tether.TetherException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The tokens file of a data directory, {@code tokens.json}: its format, its lock and its
 * atomic replacement.
 *
 * <p>Readers never lock: the file is only ever replaced whole by a rename, so a reader sees
 * either the old or the new content. Writers take {@code tokens.lock}, first a lock per JVM
 * (a file lock is held per process, and two channels of one process on the same file would
 * collide) and then an OS file lock, so writers in this and in other processes take turns
 * and each one's read-change-write sees the others' changes.
 *
 * <p>Every file is created owner-only from its first byte (directory {@code 0700}, files
 * {@code 0600}) where the file system has POSIX permissions.
 */
final class TokenFile {
    static final String FILE_NAME = "tokens.json";
    static final String LOCK_NAME = "tokens.lock";
    private static final int FORMAT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final HexFormat HEX = HexFormat.of();
    /** One lock per lock file (by real path) for the writers of this JVM. */
    private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    /** A stored token: everything but the secret, which is never stored. */
    record Entry(TokenInfo info, byte[] sha256) {
    }

    /**
     * What a stat of the file shows. Every write replaces the file, so a write by anyone
     * changes the stamp (modification time, size or file key).
     */
    record Stamp(FileTime modified, long size, Object fileKey) {
        static final Stamp MISSING = new Stamp(FileTime.fromMillis(0), -1, null);
    }

    /** Work done while holding the lock. */
    interface Locked<T> {
        T run() throws IOException;
    }

    private final Path directory;
    private final Path file;
    private final Path lockFile;

    private TokenFile(Path directory) {
        this.directory = directory;
        this.file = directory.resolve(FILE_NAME);
        this.lockFile = directory.resolve(LOCK_NAME);
    }

    /** The tokens file of {@code dataDirectory}, which is created (owner-only) when missing. */
    static TokenFile in(Path dataDirectory) {
        try {
            Files.createDirectories(dataDirectory, ownerOnly(dataDirectory, "rwx------"));
            return new TokenFile(dataDirectory.toRealPath());
        } catch (IOException e) {
            throw new TetherException(ErrorCode.STORE_FAILURE,
                    "cannot create the data directory " + dataDirectory + ": " + e, e);
        }
    }

    Path directory() {
        return directory;
    }

    /** The file's stamp now, or {@link Stamp#MISSING}. */
    Stamp stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new Stamp(a.lastModifiedTime(), a.size(), a.fileKey());
        } catch (NoSuchFileException e) {
            return Stamp.MISSING;
        } catch (IOException e) {
            throw failure("cannot read", e);
        }
    }

    /** Every stored token, in file order; none when the file does not exist yet. */
    List<Entry> read() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw failure("cannot read", e);
        }
        return parse(bytes);
    }

    /** Replaces the file with {@code entries}; call only while holding {@link #withLock}. */
    void write(List<Entry> entries) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", FORMAT_VERSION);
        ArrayNode tokens = root.putArray("tokens");
        for (Entry e : entries) {
            tokens.addObject()
                    .put("id", e.info().id())
                    .put("owner", e.info().owner())
                    .put("admin", e.info().admin())
                    .put("created_at", e.info().createdAt().toString())
                    .put("sha256", HEX.formatHex(e.sha256()));
        }
        replaceOwnerOnly(file, JSON.writeValueAsBytes(root));
    }

    /** Runs {@code work} while no other writer, in this process or another, holds the lock. */
    <T> T withLock(Locked<T> work) {
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockFile, p -> new ReentrantLock());
        jvmLock.lock();
        try (FileChannel channel = FileChannel.open(lockFile,
                Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), ownerOnly(directory, "rw-------"))) {
            FileLock lock = channel.lock();
            try {
                return work.run();
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw failure("cannot update", e);
        } finally {
            jvmLock.unlock();
        }
    }

    /**
     * Replaces {@code target} with {@code content} atomically: a reader sees the old or the
     * new file, never a part. The new file is owner-only from its creation.
     */
    static void replaceOwnerOnly(Path target, byte[] content) throws IOException {
        Path dir = target.getParent();
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp", ownerOnly(dir, "rw-------"));
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static FileAttribute<?>[] ownerOnly(Path onFileSystemOf, String permissions) {
        if (!onFileSystemOf.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions))
        };
    }

    private List<Entry> parse(byte[] bytes) {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            String at = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw corrupt("not valid JSON" + at + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw failure("cannot read", e);
        }
        if (root == null || root.isMissingNode()) {
            throw corrupt("the file is empty");
        }
        if (!root.isObject()) {
            throw corrupt("expected a JSON object with \"version\" and \"tokens\", got " + root.getNodeType());
        }
        JsonNode version = root.get("version");
        if (version == null || !version.isInt()) {
            throw corrupt("\"version\" is missing or not a number");
        }
        if (version.intValue() != FORMAT_VERSION) {
            throw corrupt("format version " + version.intValue() + " is not supported (this Tether reads version "
                    + FORMAT_VERSION + ")");
        }
        JsonNode tokens = root.get("tokens");
        if (tokens == null || !tokens.isArray()) {
            throw corrupt("\"tokens\" is missing or not an array");
        }
        List<Entry> entries = new ArrayList<>(tokens.size());
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < tokens.size(); i++) {
            Entry e = entry(tokens.get(i), "tokens[" + i + "]");
            if (!ids.add(e.info().id())) {
                throw corrupt("tokens[" + i + "]: id " + e.info().id() + " appears twice");
            }
            entries.add(e);
        }
        return List.copyOf(entries);
    }

    private Entry entry(JsonNode node, String where) {
        if (!node.isObject()) {
            throw corrupt(where + " is not an object");
        }
        String id = text(node, "id", where);
        String owner = text(node, "owner", where);
        String ownerProblem = TokenStore.ownerProblem(owner);
        if (ownerProblem != null) {
            throw corrupt(where + ".owner: " + ownerProblem);
        }
        JsonNode admin = node.get("admin");
        if (admin == null || !admin.isBoolean()) {
            throw corrupt(where + ".admin is missing or not true/false");
        }
        Instant createdAt;
        try {
            createdAt = Instant.parse(text(node, "created_at", where));
        } catch (DateTimeException e) {
            throw corrupt(where + ".created_at is not an ISO-8601 instant: " + node.get("created_at").asText());
        }
        String hash = text(node, "sha256", where);
        if (hash.length() != 64 || !hash.chars().allMatch(HexFormat::isHexDigit)) {
            throw corrupt(where + ".sha256 must be 64 hexadecimal characters");
        }
        return new Entry(new TokenInfo(id, owner, admin.booleanValue(), createdAt), HEX.parseHex(hash));
    }

    private String text(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
            throw corrupt(where + "." + field + " is missing or not a non-empty string");
        }
        return v.textValue();
    }

    private TetherException corrupt(String what) {
        return new TetherException(ErrorCode.STORE_FAILURE, "tokens file " + file + " is corrupt: " + what
                + " (fix it, or move it away to start over: every token in it then stops working)");
    }

    private TetherException failure(String action, IOException e) {
        return new TetherException(ErrorCode.STORE_FAILURE, action + " tokens file " + file + ": " + e, e);
    }
}
