package io.tether.runtime.python;

/** Every behaviour of {@link RichOutputTest}, forked, in the sandbox (jail, session namespaces, Landlock). */
class SandboxedRichOutputTest extends RichOutputTest {
    @Override
    boolean sandboxed() {
        return true;
    }
}
