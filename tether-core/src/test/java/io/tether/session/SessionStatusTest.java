package io.tether.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tether.ErrorCode;
import io.tether.TetherException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class SessionStatusTest {

    @Test
    void wireNamesAreLowerCase() {
        assertThat(SessionStatus.values()).extracting(SessionStatus::wireName)
                .containsExactly("active", "ended", "timeout", "error");
    }

    @ParameterizedTest
    @EnumSource(SessionStatus.class)
    void wireNamesRoundTrip(SessionStatus status) {
        assertThat(SessionStatus.fromWire(status.wireName())).isSameAs(status);
    }

    @Test
    void onlyActiveIsNotTerminal() {
        assertThat(SessionStatus.ACTIVE.isTerminal()).isFalse();
        assertThat(SessionStatus.ENDED.isTerminal()).isTrue();
        assertThat(SessionStatus.TIMEOUT.isTerminal()).isTrue();
        assertThat(SessionStatus.ERROR.isTerminal()).isTrue();
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"ACTIVE", "Active", "closed", " active", "active "})
    void fromWireRefusesAnythingButAWireName(String text) {
        assertThatThrownBy(() -> SessionStatus.fromWire(text))
                .isInstanceOfSatisfying(TetherException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContaining("unknown session status")
                .hasMessageContaining("allowed: active, ended, timeout, error");
    }
}
