package io.tether.runtime.device;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.tether.TetherException;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;

/**
 * A device's filesystem under its files root (the REPL's current directory when the session
 * connected: {@code /} on most boards, {@code /flash} on the simulator), and its sync with a
 * local directory by SHA-256: a file whose content the device already has is not sent again.
 * Paths are relative, {@code /}-separated. Not thread-safe: used under the worker's lock.
 */
final class DeviceFiles {
    /** Bytes of file content per execution: base64 of it stays well under small boards' buffers. */
    static final int CHUNK = 2048;

    static final String HELPERS = """
            import os, json, hashlib, binascii
            def _tether_p(rel):
                return _tether_root.rstrip('/') + '/' + rel
            def _tether_walk(rel, out):
                for e in os.ilistdir(_tether_p(rel) if rel else _tether_root):
                    p = rel + '/' + e[0] if rel else e[0]
                    if e[1] == 0x4000:
                        _tether_walk(p, out)
                    else:
                        out.append(p)
            def _tether_hash(rel):
                h = hashlib.sha256()
                with open(_tether_p(rel), 'rb') as f:
                    while True:
                        b = f.read(512)
                        if not b:
                            break
                        h.update(b)
                return binascii.hexlify(h.digest()).decode()
            def _tether_files():
                out = []
                _tether_walk('', out)
                print(json.dumps([[p, os.stat(_tether_p(p))[6], _tether_hash(p)] for p in out]))
            def _tether_mkdirs(rel):
                d = ''
                for part in rel.split('/')[:-1]:
                    d = d + '/' + part if d else part
                    try:
                        os.mkdir(_tether_p(d))
                    except OSError:
                        pass
            """;

    /** One file on the device. */
    record Entry(String path, long size, String sha256) {
    }

    /**
     * What a sync did.
     *
     * @param sent      files sent because the device did not have their content
     * @param unchanged files the device had already (not sent)
     * @param deleted   files removed from the device because they are gone locally
     */
    record SyncReport(List<String> sent, List<String> unchanged, List<String> deleted) {
    }

    private final DeviceWorker worker;
    private boolean helpersSent;
    /** What the device holds as far as this session knows: path → SHA-256, after the last sync either way. */
    private final Map<String, String> known = new HashMap<>();

    DeviceFiles(DeviceWorker worker) {
        this.worker = worker;
    }

    /** The device lost its state (a new link): its helpers are gone; its files are not. */
    void forget() {
        helpersSent = false;
    }

    private void ensureHelpers() {
        if (!helpersSent) {
            ok(worker.runNow("import os\n_tether_root = os.getcwd()\n" + HELPERS, null), "sending Tether's file helpers");
            helpersSent = true;
        }
    }

    /** Every file under the files root, with size and SHA-256. */
    List<Entry> list() {
        ensureHelpers();
        ExecutionResult r = ok(worker.runNow("_tether_files()", null), "listing files");
        List<Entry> out = new ArrayList<>();
        for (Object o : (List<?>) io.tether.runtime.python.Json.parse(r.stdout().strip())) {
            List<?> e = (List<?>) o;
            out.add(new Entry((String) e.get(0), ((Number) e.get(1)).longValue(), (String) e.get(2)));
        }
        return out;
    }

    /** The content of {@code path}. */
    byte[] read(String path) {
        check(path);
        ensureHelpers();
        String code = "import binascii\nwith open(_tether_p(" + DeviceJson.pyString(path) + "), 'rb') as f:\n"
                + "    while True:\n        b = f.read(" + CHUNK + ")\n        if not b:\n            break\n"
                + "        print(binascii.b2a_base64(b).decode().strip())\n";
        ExecutionResult r = worker.runNow(code, null);
        if (r.status() != ExecutionStatus.OK && r.error() != null && r.error().name().equals("OSError")) {
            throw new TetherException(io.tether.ErrorCode.NOT_FOUND, "no file " + path + " on device '"
                    + worker.device().name() + "'");
        }
        ok(r, "reading " + path);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String line : r.stdout().split("\n")) {
            if (!line.isBlank()) {
                out.writeBytes(Base64.getDecoder().decode(line.strip()));
            }
        }
        known.put(path, sha256(out.toByteArray()));
        return out.toByteArray();
    }

    /**
     * Writes {@code content} to {@code path} (parent directories created) unless the device
     * has exactly that content there already.
     *
     * @return whether it was sent
     */
    boolean write(String path, byte[] content) {
        check(path);
        ensureHelpers();
        String hash = sha256(content);
        String p = DeviceJson.pyString(path);
        ExecutionResult has = worker.runNow("try:\n    print(_tether_hash(" + p + "))\nexcept OSError:\n    print('-')", null);
        if (has.status() == ExecutionStatus.OK && has.stdout().strip().equals(hash)) {
            known.put(path, hash);
            return false;
        }
        ok(worker.runNow("_tether_mkdirs(" + p + ")\nf = open(_tether_p(" + p + "), 'wb')\nf.close()", null), "creating " + path);
        for (int at = 0; at < content.length; at += CHUNK) {
            byte[] chunk = java.util.Arrays.copyOfRange(content, at, Math.min(content.length, at + CHUNK));
            ok(worker.runNow("import binascii\nwith open(_tether_p(" + p + "), 'ab') as f:\n    f.write(binascii.a2b_base64(b'"
                    + Base64.getEncoder().encodeToString(chunk) + "'))", null), "writing " + path);
        }
        known.put(path, hash);
        return true;
    }

    /** Deletes {@code path}; a file already gone is fine. */
    void delete(String path) {
        check(path);
        ensureHelpers();
        ok(worker.runNow("try:\n    os.remove(_tether_p(" + DeviceJson.pyString(path) + "))\nexcept OSError:\n    pass", null),
                "deleting " + path);
        known.remove(path);
    }

    /**
     * Makes the device hold what {@code local} holds: files whose content the device lacks are
     * sent, the others are not; files this session synced before and that are gone from
     * {@code local} are deleted from the device.
     */
    SyncReport push(Path local) {
        Map<String, String> device = new HashMap<>();
        for (Entry e : list()) {
            device.put(e.path(), e.sha256());
        }
        return push(local, device);
    }

    /**
     * {@link #push(Path)} trusting what this session knows the device holds (it synced it),
     * without listing the device: what runs before every execution.
     */
    SyncReport pushKnown(Path local) {
        return push(local, Map.copyOf(known));
    }

    private SyncReport push(Path local, Map<String, String> device) {
        Map<String, byte[]> files = localFiles(local);
        List<String> sent = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        List<String> deleted = new ArrayList<>();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            String hash = sha256(f.getValue());
            if (hash.equals(device.get(f.getKey()))) {
                unchanged.add(f.getKey());
                known.put(f.getKey(), hash);
            } else {
                write(f.getKey(), f.getValue());
                sent.add(f.getKey());
            }
        }
        for (String path : List.copyOf(known.keySet())) {
            if (!files.containsKey(path) && device.containsKey(path)) {
                delete(path);
                deleted.add(path);
            }
        }
        return new SyncReport(List.copyOf(sent), List.copyOf(unchanged), List.copyOf(deleted));
    }

    /**
     * Makes {@code local} hold what the device holds: files the device changed or added are
     * fetched, files this session knew and the device no longer has are deleted locally.
     */
    void pull(Path local) {
        Map<String, String> device = new LinkedHashMap<>();
        for (Entry e : list()) {
            device.put(e.path(), e.sha256());
        }
        try {
            for (Map.Entry<String, String> e : device.entrySet()) {
                Path target = resolve(local, e.getKey());
                boolean same = Files.isRegularFile(target)
                        && sha256(Files.readAllBytes(target)).equals(e.getValue());
                if (!same) {
                    Files.createDirectories(target.getParent());
                    Files.write(target, read(e.getKey()));
                }
                known.put(e.getKey(), e.getValue());
            }
            for (String path : List.copyOf(known.keySet())) {
                if (!device.containsKey(path)) {
                    Files.deleteIfExists(resolve(local, path));
                    known.remove(path);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("syncing device files into " + local, e);
        }
    }

    static String sha256(byte[] content) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(content));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static Path resolve(Path local, String rel) {
        Path p = local.resolve(rel).normalize();
        if (!p.startsWith(local)) {
            throw TetherException.invalid("device file path escapes the working directory: " + rel);
        }
        return p;
    }

    /** Every regular file under {@code local}, by relative path; symbolic links are not followed. */
    static Map<String, byte[]> localFiles(Path local) {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try {
            Files.walkFileTree(local, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isRegularFile()) {
                        out.put(local.relativize(file).toString().replace('\\', '/'), Files.readAllBytes(file));
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + local, e);
        }
        return out;
    }

    private static void check(String path) {
        Objects.requireNonNull(path, "path");
        if (path.isEmpty() || path.startsWith("/") || path.contains("\\") || path.contains("\0")
                || java.util.Arrays.asList(path.split("/")).stream().anyMatch(s -> s.isEmpty() || s.equals("..") || s.equals("."))) {
            throw TetherException.invalid("a device file path is relative, /-separated, without . or .. parts; got '"
                    + path + "'");
        }
    }

    private ExecutionResult ok(ExecutionResult r, String what) {
        if (r.status() != ExecutionStatus.OK) {
            throw new DeviceCallException(what + " on device '" + worker.device().name() + "'", r);
        }
        return r;
    }
}
