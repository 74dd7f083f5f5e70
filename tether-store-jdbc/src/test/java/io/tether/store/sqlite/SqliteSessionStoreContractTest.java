package io.tether.store.sqlite;

import io.tether.store.SessionStore;
import io.tether.store.SessionStoreContract;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;

/** The store contract against SQLite, activity left pending so reads must merge it. */
class SqliteSessionStoreContractTest extends SessionStoreContract {
    @TempDir
    Path dir;

    @Override
    protected SessionStore openEmpty() {
        return SqliteSessionStore.builder().dataDirectory(dir).activityFlushInterval(Duration.ofHours(1)).build();
    }
}
