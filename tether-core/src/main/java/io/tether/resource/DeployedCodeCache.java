package io.tether.resource;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Remembers which code a session's live runtime already holds, so a function is sent once
 * per session: keyed by a signature (for example a function name) and the SHA-256 of its
 * content. Sending a changed body under the same signature counts as new code.
 *
 * <p>Thread-safe. {@link #deployIfAbsent} runs at most one deployment per signature at a
 * time; deployments of different signatures run concurrently, and a deployment may itself
 * deploy other signatures first. Cleared when its session ends; a deployment still running
 * then is not recorded.
 */
public final class DeployedCodeCache {
    private final ConcurrentHashMap<String, String> hashBySignature = new ConcurrentHashMap<>();
    // Deployments run under these per-signature locks, never inside the map's own bucket
    // locks: a deployment is a slow round trip to a worker, and a bucket lock held across it
    // would stall unrelated signatures, fail nested deployments ("Recursive update") and block
    // invalidate() -- so a session whose deployment waits on its worker could never close
    // that worker. Kept for the cache's life: a session deploys a handful of signatures.
    private final ConcurrentHashMap<String, ReentrantLock> deploying = new ConcurrentHashMap<>();
    // Bumped by invalidate(): a deployment that started earlier went to a runtime now gone.
    private final AtomicLong generation = new AtomicLong();

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
        ReentrantLock lock = deploying.computeIfAbsent(signature, sig -> new ReentrantLock());
        lock.lock();
        try {
            if (hash.equals(hashBySignature.get(signature))) {
                return false;
            }
            long started = generation.get();
            deployment.run();
            hashBySignature.compute(signature, (sig, old) -> generation.get() == started ? hash : old);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** How many signatures are recorded. */
    public int size() {
        return hashBySignature.size();
    }

    /** Forgets everything: the runtime that held the code is gone. */
    public void invalidate() {
        generation.incrementAndGet();
        hashBySignature.clear();
    }
}
