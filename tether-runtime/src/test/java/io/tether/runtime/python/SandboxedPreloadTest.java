package io.tether.runtime.python;

/** Every behaviour of {@link PreloadTest} with the fork server in the sandbox's jail. */
class SandboxedPreloadTest extends PreloadTest {
    @Override
    boolean sandboxed() {
        return true;
    }
}
