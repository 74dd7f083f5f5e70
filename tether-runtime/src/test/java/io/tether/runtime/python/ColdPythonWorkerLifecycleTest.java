package io.tether.runtime.python;

/** Every {@link PythonWorkerLifecycleTest} behaviour again, with workers started cold. */
class ColdPythonWorkerLifecycleTest extends PythonWorkerLifecycleTest {
    @Override
    boolean forkServer() {
        return false;
    }
}
