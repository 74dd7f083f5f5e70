package io.tether.runtime.python;

/** Every behaviour of {@link CompletionTest}, forked, in the sandbox (jail, session namespaces, Landlock). */
class SandboxedCompletionTest extends CompletionTest {
    @Override
    boolean sandboxed() {
        return true;
    }
}
