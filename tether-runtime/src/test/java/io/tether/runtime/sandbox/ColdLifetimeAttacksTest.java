package io.tether.runtime.sandbox;

/** Every attack of {@link LifetimeAttacksTest} on workers started cold, each in a jail of its own. */
class ColdLifetimeAttacksTest extends LifetimeAttacksTest {
    @Override
    boolean forkServer() {
        return false;
    }
}
