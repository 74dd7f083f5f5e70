package io.tether.runtime.python;

/** {@link SandboxedIsolationTest} for cold-started workers. */
class SandboxedColdIsolationTest extends SandboxedIsolationTest {
    @Override
    boolean forkServer() {
        return false;
    }
}
