package io.tether.runtime.python;

/** Every behaviour of {@link PackagesTest}, forked, in the sandbox (jail, session namespaces, Landlock). */
class SandboxedPackagesTest extends PackagesTest {
    @Override
    boolean sandboxed() {
        return true;
    }
}
