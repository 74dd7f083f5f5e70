package io.tether.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeployedCodeCacheTest {
    private final DeployedCodeCache cache = new DeployedCodeCache();
    private final AtomicInteger deployments = new AtomicInteger();
    // Not the common pool: it may have a single thread, and these tests block one on purpose.
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void theSameCodeUnderTheSameSignatureIsDeployedOnce() {
        assertThat(cache.deployIfAbsent("f", "def f(): return 1", deployments::incrementAndGet)).isTrue();
        assertThat(cache.deployIfAbsent("f", "def f(): return 1", deployments::incrementAndGet)).isFalse();

        assertThat(deployments).hasValue(1);
        assertThat(cache.isDeployed("f", "def f(): return 1")).isTrue();
        assertThat(cache.size()).isEqualTo(1);
    }

    @Test
    void changedContentUnderTheSameSignatureIsDeployedAgain() {
        cache.deployIfAbsent("f", "def f(): return 1", deployments::incrementAndGet);

        assertThat(cache.deployIfAbsent("f", "def f(): return 2", deployments::incrementAndGet)).isTrue();

        assertThat(deployments).hasValue(2);
        assertThat(cache.isDeployed("f", "def f(): return 2")).isTrue();
        assertThat(cache.isDeployed("f", "def f(): return 1"))
                .as("the runtime now holds the new body").isFalse();
        assertThat(cache.size()).isEqualTo(1);
    }

    @Test
    void theSameContentUnderAnotherSignatureIsASeparateDeployment() {
        cache.deployIfAbsent("f", "pass", deployments::incrementAndGet);
        cache.deployIfAbsent("g", "pass", deployments::incrementAndGet);

        assertThat(deployments).hasValue(2);
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void aFailedDeploymentIsNotRecordedAndIsRetriedNextTime() {
        assertThatThrownBy(() -> cache.deployIfAbsent("f", "def f(): boom", () -> {
            throw new IllegalStateException("runtime rejected the code");
        })).isInstanceOf(IllegalStateException.class).hasMessage("runtime rejected the code");

        assertThat(cache.isDeployed("f", "def f(): boom")).isFalse();
        assertThat(cache.size()).isZero();
        assertThat(cache.deployIfAbsent("f", "def f(): boom", deployments::incrementAndGet)).isTrue();
        assertThat(deployments).hasValue(1);
    }

    @Test
    void invalidateForgetsEverythingSoCodeIsDeployedAgain() {
        cache.deployIfAbsent("f", "pass", deployments::incrementAndGet);

        cache.invalidate();

        assertThat(cache.size()).isZero();
        assertThat(cache.isDeployed("f", "pass")).isFalse();
        assertThat(cache.deployIfAbsent("f", "pass", deployments::incrementAndGet)).isTrue();
        assertThat(deployments).hasValue(2);
    }

    @Test
    void concurrentDeploymentsOfOneSignatureRunTheDeploymentExactlyOnce() throws Exception {
        int threads = 16;
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch ready = new CountDownLatch(threads);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(executor.submit(() -> {
                    ready.countDown();
                    go.await();
                    return cache.deployIfAbsent("f", "def f(): return 42", deployments::incrementAndGet);
                }));
            }
            assertThat(ready.await(5, TimeUnit.SECONDS)).isTrue();

            go.countDown();

            int ran = 0;
            for (Future<Boolean> result : results) {
                if (result.get(5, TimeUnit.SECONDS)) {
                    ran++;
                }
            }
            assertThat(deployments).hasValue(1);
            assertThat(ran).as("exactly one caller reports that it deployed").isEqualTo(1);
            assertThat(cache.isDeployed("f", "def f(): return 42")).isTrue();
        } finally {
            executor.shutdownNow();
        }
    }

    // "f" and "v" share a bucket of a small hash table (their hash codes agree in the low
    // bits), so these also catch a cache that serializes unrelated signatures by bucket.

    @Test
    void aDeploymentInProgressDoesNotHoldUpAnotherSignature() throws Exception {
        CountDownLatch inDeployment = new CountDownLatch(1);
        CountDownLatch finishDeployment = new CountDownLatch(1);
        CompletableFuture<Boolean> slow = CompletableFuture.supplyAsync(() ->
                cache.deployIfAbsent("f", "def f(): ...", () -> {
                    inDeployment.countDown();
                    awaitUninterruptibly(finishDeployment);
                }), threads);
        try {
            assertThat(inDeployment.await(5, TimeUnit.SECONDS)).isTrue();

            CompletableFuture<Boolean> other = CompletableFuture.supplyAsync(() ->
                    cache.deployIfAbsent("v", "v = 1", deployments::incrementAndGet), threads);

            assertThat(other.get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(deployments).hasValue(1);
        } finally {
            finishDeployment.countDown();
        }
        assertThat(slow.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(cache.isDeployed("f", "def f(): ...")).isTrue();
    }

    @Test
    void aDeploymentMayFirstDeployWhatItDependsOn() {
        boolean ran = cache.deployIfAbsent("f", "def f(): return v", () -> {
            cache.deployIfAbsent("v", "v = 1", deployments::incrementAndGet);
            deployments.incrementAndGet();
        });

        assertThat(ran).isTrue();
        assertThat(deployments).hasValue(2);
        assertThat(cache.isDeployed("v", "v = 1")).isTrue();
        assertThat(cache.isDeployed("f", "def f(): return v")).isTrue();
    }

    @Test
    void invalidateIsNotHeldUpByADeploymentInProgress() throws Exception {
        CountDownLatch inDeployment = new CountDownLatch(1);
        CountDownLatch finishDeployment = new CountDownLatch(1);
        CompletableFuture<Boolean> slow = CompletableFuture.supplyAsync(() ->
                cache.deployIfAbsent("f", "def f(): ...", () -> {
                    inDeployment.countDown();
                    awaitUninterruptibly(finishDeployment);
                }), threads);
        try {
            assertThat(inDeployment.await(5, TimeUnit.SECONDS)).isTrue();

            CompletableFuture<Void> invalidated = CompletableFuture.runAsync(cache::invalidate, threads);

            invalidated.get(5, TimeUnit.SECONDS);
        } finally {
            finishDeployment.countDown();
        }
        slow.get(5, TimeUnit.SECONDS);
        assertThat(cache.isDeployed("f", "def f(): ..."))
                .as("the code went to a runtime that was gone by the time it finished")
                .isFalse();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void contentHashIsLowerCaseHexSha256OfTheUtf8Bytes() {
        assertThat(DeployedCodeCache.contentHash("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(DeployedCodeCache.contentHash(""))
                .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(DeployedCodeCache.contentHash("\u00e9"))
                .as("hashes the UTF-8 bytes c3 a9")
                .isEqualTo("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
    }
}
