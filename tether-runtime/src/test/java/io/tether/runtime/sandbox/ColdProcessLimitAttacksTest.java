package io.tether.runtime.sandbox;

/** Every attack of {@link ProcessLimitAttacksTest} on workers started cold, each in a jail of its own. */
class ColdProcessLimitAttacksTest extends ProcessLimitAttacksTest {
    @Override
    boolean forkServer() {
        return false;
    }
}
