package io.tether.testing;

/**
 * The two runs of an attack test: in the sandbox, where the attack must be refused with the
 * language's ordinary error, and with the sandbox off, where the same attack must succeed,
 * which proves that the test can fail.
 */
public enum Confinement {
    SANDBOXED("sandbox on: refused"),
    UNCONFINED("sandbox off: the attack works");

    private final String label;

    Confinement(String label) {
        this.label = label;
    }

    public boolean sandboxed() {
        return this == SANDBOXED;
    }

    @Override
    public String toString() {
        return label;
    }
}
