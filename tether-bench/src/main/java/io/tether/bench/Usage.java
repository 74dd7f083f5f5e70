package io.tether.bench;

import java.util.Arrays;

/**
 * The command line of a bench command: {@code --help} prints its usage, and a bad argument
 * ends it with a one-line reason and the usage (exit code 2), never a stack trace.
 */
public final class Usage {
    /** A bad argument; {@link #run} prints its message and the usage. */
    public static final class BadArgument extends RuntimeException {
        public BadArgument(String message) {
            super(message);
        }
    }

    /** A bench command's body. */
    @FunctionalInterface
    public interface Body {
        void run(String[] args) throws Exception;
    }

    private Usage() {
    }

    /** Runs {@code body} unless the arguments ask for help; a {@link BadArgument} exits 2. */
    public static void run(String[] args, String usage, Body body) throws Exception {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.println(usage.strip());
            return;
        }
        try {
            body.run(args);
        } catch (BadArgument e) {
            System.err.println(e.getMessage());
            System.err.println(usage.strip());
            System.exit(2);
        }
    }

    /**
     * Refuses any argument that looks like an option ({@code -x}, {@code --x}), for a command
     * that takes positional arguments only: "unknown option --x" says more than "N must be a
     * whole number, was '--x'".
     */
    public static void rejectOptions(String[] args) {
        for (String a : args) {
            if (a.length() > 1 && a.charAt(0) == '-' && !Character.isDigit(a.charAt(1))) {
                throw new BadArgument("unknown option " + a);
            }
        }
    }

    /** {@code text} as a whole number of at least {@code min}, or a {@link BadArgument} naming {@code what}. */
    public static int wholeNumber(String what, String text, int min) {
        int n;
        try {
            n = Integer.parseInt(text.replace("_", "").replace(",", ""));
        } catch (NumberFormatException e) {
            throw new BadArgument(what + " must be a whole number, was '" + text + "'");
        }
        if (n < min) {
            throw new BadArgument(what + " must be at least " + min + ", was " + n);
        }
        return n;
    }
}
