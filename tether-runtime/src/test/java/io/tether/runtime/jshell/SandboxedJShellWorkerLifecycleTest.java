package io.tether.runtime.jshell;

/** Every behaviour of {@link JShellWorkerLifecycleTest} with each JVM in the sandbox's jail. */
class SandboxedJShellWorkerLifecycleTest extends JShellWorkerLifecycleTest {
    @Override
    boolean sandboxed() {
        return true;
    }
}
