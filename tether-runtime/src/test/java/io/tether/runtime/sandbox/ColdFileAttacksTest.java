package io.tether.runtime.sandbox;

/** Every attack of {@link FileAttacksTest} on workers started cold, each in a jail of its own. */
class ColdFileAttacksTest extends FileAttacksTest {
    @Override
    boolean forkServer() {
        return false;
    }
}
