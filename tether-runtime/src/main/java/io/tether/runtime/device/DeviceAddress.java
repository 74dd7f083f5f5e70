package io.tether.runtime.device;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.tether.TetherException;

/**
 * Where a device is and how to reach it, as configured ({@code device.<name> = …}):
 * <ul>
 *   <li>{@code exec:<command line>}: a process speaking the REPL on its standard input and
 *       output, started per session (the simulated device is one);</li>
 *   <li>{@code tcp:<host>:<port>}: a REPL on a TCP socket (a board's WebREPL bridge, a
 *       serial-to-network adapter, {@code socat});</li>
 *   <li>{@code serial:<port>?baud=<rate>}: a serial port, default 115200 baud.</li>
 * </ul>
 * Immutable.
 *
 * @param kind   {@code exec}, {@code tcp} or {@code serial}
 * @param target the command line, {@code host:port} or port path
 * @param options the query options ({@code baud})
 */
public record DeviceAddress(String kind, String target, Map<String, String> options) {
    public DeviceAddress {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(target, "target");
        options = Map.copyOf(options);
    }

    /**
     * Parses a configured address.
     *
     * @throws TetherException {@code invalid_request} saying what is wrong and what is allowed
     */
    public static DeviceAddress parse(String text) {
        if (text == null || text.isBlank()) {
            throw TetherException.invalid("a device address is exec:<command>, tcp:<host>:<port> or "
                    + "serial:<port>?baud=<rate>; got nothing");
        }
        int colon = text.indexOf(':');
        String kind = colon < 0 ? text : text.substring(0, colon);
        String rest = colon < 0 ? "" : text.substring(colon + 1).strip();
        switch (kind) {
            case "exec" -> {
                if (words(rest).isEmpty()) {
                    throw TetherException.invalid("exec: needs a command line, e.g. exec:node sim.mjs; got '" + text + "'");
                }
                return new DeviceAddress(kind, rest, Map.of());
            }
            case "tcp" -> {
                int c = rest.lastIndexOf(':');
                int port = c < 1 ? -1 : parsePort(rest.substring(c + 1));
                if (port < 1 || port > 65535) {
                    throw TetherException.invalid("tcp: needs <host>:<port> with a port 1-65535; got '" + text + "'");
                }
                return new DeviceAddress(kind, rest, Map.of());
            }
            case "serial" -> {
                int q = rest.indexOf('?');
                String port = q < 0 ? rest : rest.substring(0, q);
                Map<String, String> options = new LinkedHashMap<>();
                if (q >= 0) {
                    for (String pair : rest.substring(q + 1).split("&")) {
                        int eq = pair.indexOf('=');
                        String key = eq < 0 ? pair : pair.substring(0, eq);
                        if (!key.equals("baud") || eq < 0 || parsePort(pair.substring(eq + 1)) < 1) {
                            throw TetherException.invalid("serial: takes one option, baud=<rate> (a positive number); "
                                    + "got '" + pair + "' in '" + text + "'");
                        }
                        options.put(key, pair.substring(eq + 1));
                    }
                }
                if (port.isBlank()) {
                    throw TetherException.invalid("serial: needs a port, e.g. serial:/dev/ttyACM0; got '" + text + "'");
                }
                return new DeviceAddress(kind, port, options);
            }
            default -> throw TetherException.invalid("a device address starts with exec:, tcp: or serial:; got '"
                    + text + "'");
        }
    }

    private static int parsePort(String s) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The serial baud rate (default 115200). */
    int baud() {
        return Integer.parseInt(options.getOrDefault("baud", "115200"));
    }

    /**
     * Opens a link to the device.
     *
     * @throws DeviceException {@code LOST} when the device is absent (no such command, port
     *     or listener); never waits longer than a few seconds
     */
    DeviceLink open() throws DeviceException {
        return switch (kind) {
            case "exec" -> ExecLink.start(words(target));
            case "tcp" -> TcpLink.connect(target);
            case "serial" -> SerialLink.open(target, baud());
            default -> throw new IllegalStateException(kind);
        };
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(kind).append(':').append(target);
        String sep = "?";
        for (Map.Entry<String, String> e : options.entrySet()) {
            s.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = "&";
        }
        return s.toString();
    }

    /** Splits a command line at spaces; single or double quotes keep spaces in a word. */
    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                word = word == null ? new StringBuilder() : word;
            } else if (Character.isWhitespace(c)) {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else {
                word = word == null ? new StringBuilder() : word;
                word.append(c);
            }
        }
        if (quote != 0) {
            throw TetherException.invalid("unclosed quote in the command line '" + line + "'");
        }
        if (word != null) {
            words.add(word.toString());
        }
        return words;
    }
}
