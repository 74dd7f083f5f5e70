package io.tether.runtime.python;

/** Every behaviour of {@link PythonWorkerLifecycleTest}, forked, in the sandbox (jail, session namespaces, Landlock). */
class SandboxedPythonWorkerLifecycleTest extends PythonWorkerLifecycleTest {
    @Override
    boolean sandboxed() {
        return true;
    }
}
