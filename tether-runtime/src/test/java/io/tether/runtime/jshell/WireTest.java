package io.tether.runtime.jshell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class WireTest {

    private static DataInputStream in(byte[] bytes) {
        return new DataInputStream(new ByteArrayInputStream(bytes));
    }

    @Test
    void framesRoundTripInOrder() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Wire.write(out, Wire.EXECUTE, new Wire.Fields.Writer().string("int x = 1; // é ✓ 𝄞").longValue(1 << 20).bytes());
        Wire.write(out, Wire.STOP);
        DataInputStream in = in(out.toByteArray());
        Wire.Frame execute = Wire.read(in);
        assertThat(execute.type()).isEqualTo(Wire.EXECUTE);
        Wire.Fields.Reader fields = execute.fields();
        assertThat(fields.string()).isEqualTo("int x = 1; // é ✓ 𝄞");
        assertThat(fields.longValue()).isEqualTo(1 << 20);
        assertThat(Wire.read(in).type()).isEqualTo(Wire.STOP);
        assertThatThrownBy(() -> Wire.read(in)).isInstanceOf(EOFException.class);
    }

    @Test
    void outcomeRoundTripsWithNullsAndLists() {
        Wire.Outcome outcome = new Wire.Outcome(Wire.Kind.ERROR, null, Wire.JsonKind.NONE, null,
                "java.lang.IllegalStateException", "", List.of("\tat .(#3:1)", "Caused by: x"), true);
        assertThat(Wire.Outcome.decode(outcome.encode())).isEqualTo(outcome);
        Wire.Outcome value = new Wire.Outcome(Wire.Kind.OK, "\"hi\"", Wire.JsonKind.STRING, "hi", null, null,
                List.of(), false);
        assertThat(Wire.Outcome.decode(value.encode())).isEqualTo(value);
    }

    @Test
    void aFrameCutShortIsEndOfFile() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Wire.write(out, Wire.STDOUT, new Wire.Fields.Writer().string("hello").bytes());
        byte[] cut = Arrays.copyOf(out.toByteArray(), out.size() - 2);
        assertThatThrownBy(() -> Wire.read(in(cut))).isInstanceOf(EOFException.class);
    }

    @Test
    void aLengthOutOfRangeIsRefusedBeforeAllocating() {
        byte[] huge = ByteBuffer.allocate(5).putInt(Wire.MAX_FRAME + 1).put(Wire.STDOUT).array();
        assertThatThrownBy(() -> Wire.read(in(huge))).isInstanceOf(IOException.class).hasMessageContaining("length");
        byte[] empty = ByteBuffer.allocate(4).putInt(0).array();
        assertThatThrownBy(() -> Wire.read(in(empty))).isInstanceOf(IOException.class);
    }

    @Test
    void aStringLengthBeyondThePayloadIsRefused() {
        byte[] payload = ByteBuffer.allocate(6).putInt(100).put((byte) 'a').put((byte) 'b').array();
        assertThatThrownBy(() -> new Wire.Fields.Reader(payload).string()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void captureStreamSendsWholeCharactersOnly() throws IOException {
        List<String> sent = new ArrayList<>();
        CaptureStream stream = new CaptureStream((type, payload) -> sent.add(new Wire.Fields.Reader(payload).string()),
                Wire.STDOUT);
        byte[] note = "𝄞".getBytes(StandardCharsets.UTF_8);
        stream.write(new byte[] {'a', note[0], note[1]}, 0, 3);
        stream.flush();
        assertThat(sent).containsExactly("a");
        stream.write(note, 2, 2);
        stream.flush();
        assertThat(sent).containsExactly("a", "𝄞");
        stream.flush();
        assertThat(sent).hasSize(2);
    }

    @Test
    void captureStreamDropsBytesPastTheLimitAndSaysSo() throws IOException {
        StringBuilder sent = new StringBuilder();
        CaptureStream stream = new CaptureStream((type, payload) -> sent.append(new Wire.Fields.Reader(payload).string()),
                Wire.STDERR);
        stream.begin(5);
        stream.write("abcé-more".getBytes(StandardCharsets.UTF_8));
        stream.flushAll();
        assertThat(sent.toString()).isEqualTo("abcé");
        assertThat(stream.truncated()).isTrue();
        stream.begin(5);
        assertThat(stream.truncated()).isFalse();
    }

    @Test
    void captureStreamSendsLargeWritesWithoutAFlush() throws IOException {
        List<Integer> sizes = new ArrayList<>();
        CaptureStream stream = new CaptureStream((type, payload) -> sizes.add(payload.length - 4), Wire.STDOUT);
        stream.write(new byte[100_000]);
        assertThat(sizes).containsExactly(100_000);
    }

    @Test
    void completeUtf8PrefixStopsBeforeAPartialSequence() {
        byte[] bytes = "aé✓𝄞".getBytes(StandardCharsets.UTF_8); // 1 + 2 + 3 + 4 bytes
        assertThat(CaptureStream.completeUtf8Prefix(bytes, bytes.length)).isEqualTo(10);
        assertThat(CaptureStream.completeUtf8Prefix(bytes, 9)).isEqualTo(6);
        assertThat(CaptureStream.completeUtf8Prefix(bytes, 7)).isEqualTo(6);
        assertThat(CaptureStream.completeUtf8Prefix(bytes, 5)).isEqualTo(3);
        assertThat(CaptureStream.completeUtf8Prefix(bytes, 2)).isEqualTo(1);
        assertThat(CaptureStream.completeUtf8Prefix(bytes, 0)).isEqualTo(0);
    }
}
