package io.tether.runtime.jshell;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The framed protocol between a {@link JShellWorker} and its {@link JShellAgent}.
 *
 * <p>A frame is a 4-byte big-endian length {@code n}, then {@code n} bytes: one type byte
 * and the payload. Payload fields are written in a fixed order per type: strings as a
 * 4-byte length (-1 for null) and UTF-8 bytes, lists of strings as a count and strings,
 * bytes, longs and booleans as themselves. Both ends live in this package and are always
 * the same version, so there is no negotiation.
 *
 * <p>This class and everything the agent uses must not touch Tether's core types: the
 * agent's JVM has only this module's classes on its class path.
 */
final class Wire {
    private Wire() {
    }

    /** Largest frame accepted; guards against a corrupt length allocating gigabytes. */
    static final int MAX_FRAME = 256 << 20;

    // parent -> agent
    /**
     * Run code: string code, long maximum output bytes per stream, string stdin text (null
     * for none), boolean interactive (input is asked for past it).
     */
    static final byte EXECUTE = 1;
    /** Stop the running execution; no payload. */
    static final byte STOP = 2;
    /** Answer with {@link #PONG}; no payload. */
    static final byte PING = 3;
    /** Complete: string code, int cursor (a UTF-16 index); answered with {@link #COMPLETION}. */
    static final byte COMPLETE = 4;
    /** Inspect: string code, int cursor (a UTF-16 index); answered with {@link #DOCUMENTATION}. */
    static final byte INSPECT = 5;
    /** The line answering an {@link #INPUT_REQUEST}: string, without its line end. */
    static final byte INPUT = 6;

    // agent -> parent
    /** The agent can execute: string Java version. */
    static final byte READY = 10;
    /** Text the code wrote to System.out: string. */
    static final byte STDOUT = 11;
    /** Text the code wrote to System.err: string. */
    static final byte STDERR = 12;
    /** An execution ended: see {@link Outcome}. */
    static final byte RESULT = 13;
    /** Answer to {@link #PING}; no payload. */
    static final byte PONG = 14;
    /** Answer to {@link #COMPLETE}: strings matches, int anchor (where they replace from, UTF-16). */
    static final byte COMPLETION = 15;
    /** Answer to {@link #INSPECT}: string text, null when nothing was found. */
    static final byte DOCUMENTATION = 16;
    /** The running code reads System.in past its stdin text and waits for {@link #INPUT}; no payload. */
    static final byte INPUT_REQUEST = 17;

    /** One frame. */
    record Frame(byte type, byte[] payload) {
        Fields.Reader fields() {
            return new Fields.Reader(payload);
        }
    }

    /** Writes one frame and flushes; callers serialize writers. */
    static void write(OutputStream out, byte type, byte[] payload) throws IOException {
        byte[] frame = new byte[5 + payload.length];
        ByteBuffer.wrap(frame).putInt(1 + payload.length).put(type).put(payload);
        out.write(frame);
        out.flush();
    }

    static void write(OutputStream out, byte type) throws IOException {
        write(out, type, new byte[0]);
    }

    /**
     * Reads one frame, blocking.
     *
     * @throws EOFException when the stream ends, also in the middle of a frame
     * @throws IOException  when the length is out of range
     */
    static Frame read(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 1 || length > MAX_FRAME) {
            throw new IOException("bad frame length " + length);
        }
        byte type = in.readByte();
        byte[] payload = new byte[length - 1];
        in.readFully(payload);
        return new Frame(type, payload);
    }

    /** Payload fields. */
    static final class Fields {
        private Fields() {
        }

        /** Builds a payload. Not thread-safe. */
        static final class Writer {
            private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

            Writer string(String s) {
                if (s == null) {
                    return integer(-1);
                }
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                integer(utf8.length);
                bytes.writeBytes(utf8);
                return this;
            }

            Writer strings(List<String> list) {
                integer(list.size());
                list.forEach(this::string);
                return this;
            }

            Writer integer(int i) {
                bytes.writeBytes(ByteBuffer.allocate(4).putInt(i).array());
                return this;
            }

            Writer longValue(long l) {
                bytes.writeBytes(ByteBuffer.allocate(8).putLong(l).array());
                return this;
            }

            Writer byteValue(byte b) {
                bytes.write(b);
                return this;
            }

            Writer bool(boolean b) {
                return byteValue(b ? (byte) 1 : 0);
            }

            byte[] bytes() {
                return bytes.toByteArray();
            }
        }

        /** Reads a payload in the order it was written. */
        static final class Reader {
            private final ByteBuffer buffer;

            Reader(byte[] payload) {
                this.buffer = ByteBuffer.wrap(payload);
            }

            String string() {
                int length = buffer.getInt();
                if (length == -1) {
                    return null;
                }
                if (length < 0 || length > buffer.remaining()) {
                    throw new IllegalStateException("bad string length " + length);
                }
                String s = new String(buffer.array(), buffer.position(), length, StandardCharsets.UTF_8);
                buffer.position(buffer.position() + length);
                return s;
            }

            List<String> strings() {
                int count = buffer.getInt();
                if (count < 0 || count > buffer.remaining() / 4) {
                    throw new IllegalStateException("bad list length " + count);
                }
                List<String> list = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    list.add(string());
                }
                return list;
            }

            int integer() {
                return buffer.getInt();
            }

            long longValue() {
                return buffer.getLong();
            }

            byte byteValue() {
                return buffer.get();
            }

            boolean bool() {
                return buffer.get() != 0;
            }
        }
    }

    /** How an execution ended, as the agent saw it. */
    enum Kind {
        OK, ERROR, INTERRUPTED
    }

    /** What kind of JSON value {@link Outcome#json} holds. */
    enum JsonKind {
        NONE, NUMBER, BOOLEAN, STRING
    }

    /**
     * The payload of {@link #RESULT}.
     *
     * @param kind       how it ended
     * @param text       the trailing expression's value as JShell prints it, or null
     * @param jsonKind   whether {@code json} is a JSON number, boolean or string
     * @param json       the number or boolean literal, or the string's unescaped text
     * @param errorName  the exception class or {@code CompilationError}; null when none
     * @param errorValue the message
     * @param traceback  stack or diagnostic lines
     * @param truncated  whether the agent dropped output or shortened the value
     */
    record Outcome(Kind kind, String text, JsonKind jsonKind, String json, String errorName, String errorValue,
                   List<String> traceback, boolean truncated) {
        Outcome {
            traceback = List.copyOf(traceback);
        }

        /**
         * This outcome with its error's value and its traceback (all lines together) cut to
         * {@code maxChars} characters each and marked truncated when either was longer: an
         * exception message can be as large as the agent's heap, and it is sent, returned and
         * stored like output.
         */
        Outcome withErrorCapped(long maxChars) {
            boolean cut = errorValue != null && errorValue.length() > maxChars;
            String value = cut ? prefix(errorValue, maxChars) : errorValue;
            List<String> lines = new ArrayList<>();
            long room = maxChars;
            for (String line : traceback) {
                if (line.length() > room) {
                    if (room > 0) {
                        lines.add(prefix(line, room));
                    }
                    cut = true;
                    break;
                }
                lines.add(line);
                room -= line.length() + 1; // and the line break between it and the next
            }
            return cut ? new Outcome(kind, text, jsonKind, json, errorName, value, lines, true) : this;
        }

        /** The first {@code n} chars of {@code s} (n < its length), one fewer rather than half a surrogate pair. */
        private static String prefix(String s, long n) {
            int end = (int) n;
            return s.substring(0, end > 0 && Character.isHighSurrogate(s.charAt(end - 1)) ? end - 1 : end);
        }

        byte[] encode() {
            return new Fields.Writer().byteValue((byte) kind.ordinal()).string(text)
                    .byteValue((byte) jsonKind.ordinal()).string(json).string(errorName).string(errorValue)
                    .strings(traceback).bool(truncated).bytes();
        }

        static Outcome decode(byte[] payload) {
            Fields.Reader r = new Fields.Reader(payload);
            return new Outcome(Kind.values()[r.byteValue()], r.string(), JsonKind.values()[r.byteValue()], r.string(),
                    r.string(), r.string(), r.strings(), r.bool());
        }
    }
}
