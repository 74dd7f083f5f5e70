package io.tether.runtime.python;

/** Every behaviour of {@link PythonWorkerTest}, forked, in the sandbox (jail, session namespaces, Landlock). */
class SandboxedPythonWorkerTest extends PythonWorkerTest {
    @Override
    boolean sandboxed() {
        return true;
    }
}
