package io.tether.runtime.sandbox;

/** Every attack of {@link NetworkAttacksTest} on workers started cold, each in a jail of its own. */
class ColdNetworkAttacksTest extends NetworkAttacksTest {
    @Override
    boolean forkServer() {
        return false;
    }
}
