package io.tether.runtime.python;

/** Every behaviour of {@link PythonWorkerTest}, cold, in the sandbox (jail, session namespaces, Landlock). */
class SandboxedColdPythonWorkerTest extends PythonWorkerTest {
    @Override
    boolean sandboxed() {
        return true;
    }

    @Override
    boolean forkServer() {
        return false;
    }
}
