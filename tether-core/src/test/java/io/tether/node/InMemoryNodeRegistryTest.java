package io.tether.node;

/** The registry contract against the in-memory registry. */
class InMemoryNodeRegistryTest extends NodeRegistryContract {
    @Override
    protected NodeRegistry openEmpty() {
        return new InMemoryNodeRegistry();
    }
}
