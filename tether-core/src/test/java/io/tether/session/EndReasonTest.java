package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class EndReasonTest {

    static Stream<EndReason> wellKnown() {
        return Stream.of(EndReason.MANUAL, EndReason.IDLE_TIMEOUT, EndReason.MAX_LIFETIME,
                EndReason.WORKER_CRASHED, EndReason.DISK_QUOTA_EXCEEDED, EndReason.SERVER_SHUTDOWN,
                EndReason.NODE_LOST, EndReason.BLOCK_FAILED);
    }

    @ParameterizedTest
    @MethodSource("wellKnown")
    void ofAWellKnownCodeReturnsTheSharedConstant(EndReason reason) {
        assertThat(EndReason.of(reason.code())).isSameAs(reason);
    }

    @Test
    void wellKnownCodesAreTheDocumentedSnakeCaseNames() {
        assertThat(wellKnown().map(EndReason::code)).containsExactly("manual", "idle_timeout", "max_lifetime",
                "worker_crashed", "disk_quota_exceeded", "server_shutdown", "node_lost", "block_failed");
    }

    @Test
    void anApplicationsOwnReasonRoundTripsThroughItsCode() {
        EndReason custom = EndReason.of("quota_exhausted");

        assertThat(custom.code()).isEqualTo("quota_exhausted");
        assertThat(custom.toString()).isEqualTo("quota_exhausted");
        assertThat(EndReason.of(custom.toString())).isEqualTo(custom);
        assertThat(new EndReason("manual")).isEqualTo(EndReason.MANUAL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "a1", "x_2_y", "abcdefghijklmnopqrstuvwxyz_abcdefghijklmnopqrstuvwxyz_0123456789"})
    void snakeCaseCodesUpTo64CharactersAreAccepted(String code) {
        assertThat(code.length()).isLessThanOrEqualTo(64);
        assertThat(EndReason.of(code).code()).isEqualTo(code);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"Manual", "1st", "_manual", "idle-timeout", "idle timeout", "manual\n",
            "abcdefghijklmnopqrstuvwxyz_abcdefghijklmnopqrstuvwxyz_01234567890"})
    void anythingElseIsRefused(String code) {
        assertThatThrownBy(() -> EndReason.of(code))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContaining("end reason must be snake_case");
        assertThatThrownBy(() -> new EndReason(code)).isInstanceOf(TetherException.class);
    }
}
