package io.tether.runtime.sandbox;

/** Every attack of {@link ProcessAttacksTest} on workers started cold, each in a jail of its own. */
class ColdProcessAttacksTest extends ProcessAttacksTest {
    @Override
    boolean forkServer() {
        return false;
    }
}
