package io.tether.runtime.python;

/** Every {@link PythonWorkerTest} behaviour again, with workers started cold. */
class ColdPythonWorkerTest extends PythonWorkerTest {
    @Override
    boolean forkServer() {
        return false;
    }
}
