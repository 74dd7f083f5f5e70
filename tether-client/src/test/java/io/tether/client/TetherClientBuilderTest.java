package io.tether.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** Builders fail fast on bad or repeated settings, and the defaults are what the docs say. */
class TetherClientBuilderTest {

    @Test
    void theBaseUrlIsRequiredAndChecked() {
        assertThatThrownBy(() -> TetherClient.builder().build()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("baseUrl is required");
        assertThatThrownBy(() -> TetherClient.builder().baseUrl("ftp://host")).hasMessageContaining("http or https");
        assertThatThrownBy(() -> TetherClient.builder().baseUrl("http://host/?q=1")).hasMessageContaining("no query");
        assertThatThrownBy(() -> TetherClient.builder().baseUrl("not a url")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TetherClient.builder().baseUrl(" ")).hasMessageContaining("blank");
    }

    @Test
    void settingAnOptionTwiceIsAnError() {
        assertThatThrownBy(() -> TetherClient.builder().baseUrl("http://a").baseUrl("http://b"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("baseUrl was already set");
        assertThatThrownBy(() -> TetherClient.builder().token("tth_a").token("tth_b"))
                .isInstanceOf(IllegalStateException.class).hasMessageNotContaining("tth_a");
        assertThatThrownBy(() -> TetherClient.builder().requestTimeout(Duration.ofSeconds(1))
                .requestTimeout(Duration.ofSeconds(2))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> AutoSessionSettings.builder().onLost(LostSessionPolicy.FAIL)
                .onLost(LostSessionPolicy.RECREATE)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> NewSession.builder().runtime("python").runtime("jshell"))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badValuesAreRefusedWithWhatIsAllowed() {
        assertThatThrownBy(() -> TetherClient.builder().connectTimeout(Duration.ZERO)).hasMessageContaining("positive");
        assertThatThrownBy(() -> TetherClient.builder().token("has space")).hasMessageContaining("printable ASCII");
        assertThatThrownBy(() -> TetherClient.builder().userAgent("a\r\nb")).hasMessageContaining("one line");
        assertThatThrownBy(() -> new RetryPolicy(-1, Duration.ofMillis(1), 2, Duration.ofSeconds(1)))
                .hasMessageContaining("0 to 100");
        assertThatThrownBy(() -> RetryPolicy.DEFAULT.withBackoff(0.5)).hasMessageContaining("1.0 to 10.0");
        assertThatThrownBy(() -> RetryPolicy.DEFAULT.withMaxDelay(Duration.ofMillis(1)))
                .hasMessageContaining("at least delay");
        assertThatThrownBy(() -> ExecuteRequest.of("1").withTimeout(Duration.ofSeconds(-1)))
                .hasMessageContaining("NEVER");
        assertThatThrownBy(() -> SessionQuery.all().withLimit(1001)).hasMessageContaining("1 to 1000");
    }

    @Test
    void aGivenHttpClientCannotBeCombinedWithSettingsOfTheOneTheClientWouldBuild() {
        try (HttpClient http = HttpClient.newHttpClient(); var executor = Executors.newSingleThreadExecutor()) {
            assertThatThrownBy(() -> TetherClient.builder().baseUrl("http://a").httpClient(http)
                    .connectTimeout(Duration.ofSeconds(1)).build()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("set them on that HttpClient");
            assertThatThrownBy(() -> TetherClient.builder().baseUrl("http://a").httpClient(http).executor(executor)
                    .build()).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        assertThat(RetryPolicy.DEFAULT).isEqualTo(new RetryPolicy(2, Duration.ofMillis(200), 2.0, Duration.ofSeconds(5)));
        assertThat(RetryPolicy.DEFAULT.delayBefore(1)).isEqualTo(Duration.ofMillis(200));
        assertThat(RetryPolicy.DEFAULT.delayBefore(2)).isEqualTo(Duration.ofMillis(400));
        assertThat(RetryPolicy.DEFAULT.delayBefore(10)).isEqualTo(Duration.ofSeconds(5));
        AutoSessionSettings d = AutoSessionSettings.DEFAULTS;
        assertThat(d.onLost()).isEqualTo(LostSessionPolicy.FAIL);
        assertThat(d.callTimeout()).isNull();
        assertThat(d.retryPolicy()).isNull();
        assertThat(d.streamTimeout()).isNull();
        assertThat(d.idempotent()).isFalse();
    }

    @Test
    void toStringNeverShowsTheToken() {
        try (TetherClient c = TetherClient.builder().baseUrl("http://127.0.0.1:1").token("tth_secret").build()) {
            assertThat(c.toString()).contains("127.0.0.1:1").doesNotContain("tth_secret");
        }
    }

    @Test
    void retryRulesSeparateRefusedFromMaybeRun() {
        RetryPolicy p = RetryPolicy.DEFAULT;
        TetherClientException notSent = TetherClientException.local("connection_failed", "x", true, false, null);
        TetherClientException lost = TetherClientException.local("connection_lost", "x", false, true, null);
        TetherClientException busy = TetherClientException.problem("limit_exceeded", 429, "x", null);
        TetherClientException bug = TetherClientException.problem("internal", 500, "x", null);
        assertThat(Transport.waitBefore(1, notSent, false, p)).isEqualTo(Duration.ofMillis(200));
        assertThat(Transport.waitBefore(2, busy, false, p)).isEqualTo(Duration.ofMillis(400));
        assertThat(Transport.waitBefore(3, busy, false, p)).isNull(); // out of retries
        assertThat(Transport.waitBefore(1, lost, false, p)).isNull();
        assertThat(Transport.waitBefore(1, lost, true, p)).isEqualTo(Duration.ofMillis(200));
        assertThat(Transport.waitBefore(1, bug, true, p)).isNull();
    }
}
