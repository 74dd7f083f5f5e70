package io.tether.session;

import java.security.SecureRandom;
import java.util.Base64;

/** Makes session ids: 128 random bits as 22 URL-safe characters. Thread-safe. */
final class SessionIds {
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    // One generator per thread: a shared SecureRandom serializes every create.
    private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(SecureRandom::new);

    private SessionIds() {
    }

    static String next() {
        byte[] bytes = new byte[16];
        RANDOM.get().nextBytes(bytes);
        return ENCODER.encodeToString(bytes);
    }
}
