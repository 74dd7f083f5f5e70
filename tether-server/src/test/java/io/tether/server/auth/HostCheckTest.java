package io.tether.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Host headers as real clients and DNS-rebinding pages send them. */
class HostCheckTest {
    private final HostCheck loopback = HostCheck.forBind("127.0.0.1", 8080, List.of());

    @Test
    void loopbackNamesAreAllowedWithOrWithoutTheServersPort() {
        for (String host : List.of("localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:8080",
                "LocalHost:8080", " localhost:8080 ")) {
            assertThat(loopback.allowed(host)).as(host).isTrue();
        }
    }

    @Test
    void anotherPortIsRefused() {
        for (String host : List.of("localhost:8081", "127.0.0.1:80", "[::1]:9090", "localhost:08081")) {
            assertThat(loopback.allowed(host)).as(host).isFalse();
        }
    }

    @Test
    void aRebindingNameIsRefused() {
        for (String host : List.of("evil.example", "evil.example:8080", "localhost.evil.example",
                "127.0.0.1.nip.io:8080",
                "0.0.0.0:8080")) {
            assertThat(loopback.allowed(host)).as(host).isFalse();
        }
    }

    @Test
    void missingOrMalformedHostsAreRefused() {
        for (String host : new String[] {null, "", "   ", "localhost:", "localhost:80a", "localhost:99999",
                "localhost:8080:8080", "::1", "[::1", "[::1]8080", "local host", "localhost/x", "user@localhost"}) {
            assertThat(loopback.allowed(host)).as(String.valueOf(host)).isFalse();
        }
    }

    @Test
    void theBindAddressIsAllowed() {
        HostCheck check = HostCheck.forBind("192.168.1.20", 7070, List.of());
        assertThat(check.allowed("192.168.1.20:7070")).isTrue();
        assertThat(check.allowed("192.168.1.20:7071")).isFalse();
        assertThat(check.allowedHosts()).containsExactly("localhost", "127.0.0.1", "[::1]", "192.168.1.20");

        HostCheck v6 = HostCheck.forBind("FD00::5", 7070, List.of());
        assertThat(v6.allowed("[fd00::5]:7070")).isTrue();
        assertThat(v6.allowedHosts()).contains("[fd00::5]");
    }

    @Test
    void aWildcardBindAllowsOnlyLoopbackAndTheExtras() {
        HostCheck check = HostCheck.forBind("0.0.0.0", 8080,
                List.of("tether.internal", "Box.Example", "proxy.example:8443"));
        assertThat(check.allowed("tether.internal:8080")).isTrue();
        assertThat(check.allowed("box.example")).isTrue();
        assertThat(check.allowed("localhost:8080")).isTrue();
        assertThat(check.allowed("proxy.example:8443")).as("an extra with its own port").isTrue();
        assertThat(check.allowed("proxy.example:8080")).isFalse();
        assertThat(check.allowed("tether.internal:8443")).isFalse();
        assertThat(check.allowed("0.0.0.0:8080")).as("a wildcard is no name clients use").isFalse();
        assertThat(check.allowed("evil.example:8080")).isFalse();
        assertThat(check.allowedHosts()).containsExactly("localhost", "127.0.0.1", "[::1]", "tether.internal",
                "box.example", "proxy.example:8443");

        assertThat(HostCheck.forBind("::", 8080, List.of()).allowedHosts())
                .containsExactly("localhost", "127.0.0.1", "[::1]");
    }

    @Test
    void aStarAllowsAnyHostButStillNeedsOne() {
        HostCheck check = HostCheck.forBind("0.0.0.0", 8080, List.of("*"));
        assertThat(check.allowed("evil.example:1234")).isTrue();
        assertThat(check.allowed("anything at all")).isTrue();
        assertThat(check.allowed(null)).isFalse();
        assertThat(check.allowed("")).isFalse();
        assertThat(check.allowedHosts()).contains("*");
    }

    @Test
    void badConfigurationFailsFast() {
        assertThatThrownBy(() -> HostCheck.forBind("127.0.0.1", 0, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1-65535");
        assertThatThrownBy(() -> HostCheck.forBind("127.0.0.1", 8080, List.of(" ")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("extra allowed host");
        assertThatThrownBy(() -> HostCheck.forBind("127.0.0.1", 8080, List.of("http://x")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HostCheck.forBind("127.0.0.1:8080", 8080, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bind address");
        assertThatThrownBy(() -> HostCheck.forBind("", 8080, List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
