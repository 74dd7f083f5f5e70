package io.tether.resource;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers which code a session's live runtime already holds, so a function is sent once
 * per session: keyed by a signature (for example a function name) and the SHA-256 of its
 * content. Sending a changed body under the same signature counts as new code.
 *
 * <p>Thread-safe. {@link #deployIfAbsent} runs at most one deployment per signature at a
 * time. Cleared when its session ends.
 */
public final class DeployedCodeCache {
    private final ConcurrentHashMap<String, String> hashBySignature = new ConcurrentHashMap<>();

    /** The lower-case hex SHA-256 of {@code content} (UTF-8). */
    public static String contentHash(String content) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(content.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Whether exactly this content was deployed under {@code signature}. */
    public boolean isDeployed(String signature, String content) {
        return contentHash(content).equals(hashBySignature.get(signature));
    }

    /**
     * Runs {@code deployment} unless this exact content is already deployed under
     * {@code signature}, and records it when {@code deployment} returns normally.
     *
     * @return {@code true} when the deployment ran
     * @throws RuntimeException whatever {@code deployment} throws; nothing is recorded then
     */
    public boolean deployIfAbsent(String signature, String content, Runnable deployment) {
        String hash = contentHash(content);
        boolean[] ran = {false};
        hashBySignature.compute(signature, (sig, old) -> {
            if (hash.equals(old)) {
                return old;
            }
            deployment.run();
            ran[0] = true;
            return hash;
        });
        return ran[0];
    }

    /** How many signatures are recorded. */
    public int size() {
        return hashBySignature.size();
    }

    /** Forgets everything: the runtime that held the code is gone. */
    public void invalidate() {
        hashBySignature.clear();
    }
}
