package io.tether.server.auth;

import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Tokens in the data directory's {@code tokens.json}: changes under the file's lock; reads
 * from the parsed content kept in memory, reloaded when a stat shows the file changed
 * (modification time, size or identity).
 */
final class FileTokenRecords implements TokenRecords {
    /** The parsed file and the stamp it was read at. */
    private record Snapshot(TokenFile.Stamp stamp, List<TokenFile.Entry> entries) {
    }

    private final TokenFile file;
    /** Not a monitor: the reload reads a file, on request threads that are virtual. */
    private final ReentrantLock reloadLock = new ReentrantLock();
    private volatile Snapshot cache;

    /** Reads the file at once, so a corrupt file fails here rather than at the first request. */
    FileTokenRecords(TokenFile file) {
        this.file = file;
        // Stats before reading: content newer than its stamp only causes one more reload later.
        TokenFile.Stamp stamp = file.stamp();
        this.cache = new Snapshot(stamp, file.read());
    }

    @Override
    public List<TokenFile.Entry> current() {
        Snapshot s = cache;
        if (s.stamp().equals(file.stamp())) {
            return s.entries();
        }
        reloadLock.lock();
        try {
            s = cache;
            TokenFile.Stamp now = file.stamp();
            if (!s.stamp().equals(now)) {
                s = new Snapshot(now, file.read());
                cache = s;
            }
            return s.entries();
        } finally {
            reloadLock.unlock();
        }
    }

    /** Writes under the lock; the stamp read right after is this write's, as nobody else may write. */
    @Override
    public <T> T change(Change<T> change) {
        return file.withLock(() -> {
            List<TokenFile.Entry> entries = file.read();
            Outcome<T> outcome = change.apply(entries);
            if (outcome.entries() != null) {
                file.write(outcome.entries());
            }
            cache = new Snapshot(file.stamp(), outcome.entries() != null ? outcome.entries() : entries);
            return outcome.result();
        });
    }
}
