package io.tether.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PostgresUrlTest {
    @Test
    void aLibpqUrlSplitsIntoAJdbcUrlUserAndPassword() {
        PostgresUrl u = PostgresUrl.parse("postgresql://tether:p%40ss:word@db.internal:5433/sessions?sslmode=require");

        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:5433/sessions?sslmode=require");
        assertThat(u.user()).isEqualTo("tether");
        assertThat(u.password()).isEqualTo("p@ss:word");
        assertThat(u.redacted()).isEqualTo("postgresql://tether@db.internal:5433/sessions?sslmode=require");
        assertThat(u.toString()).doesNotContain("p@ss").doesNotContain("p%40ss");
    }

    @Test
    void aJdbcUrlMayCarryTheCredentialsAsParameters() {
        PostgresUrl u = PostgresUrl.parse("jdbc:postgresql://127.0.0.1/tether?user=app&password=hunter2&ssl=false");

        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1/tether?ssl=false");
        assertThat(u.user()).isEqualTo("app");
        assertThat(u.password()).isEqualTo("hunter2");
        assertThat(u.redacted()).isEqualTo("postgresql://app@127.0.0.1/tether?ssl=false");
    }

    @Test
    void withoutCredentialsTheDriverDefaultsApply() {
        PostgresUrl u = PostgresUrl.parse("postgres://db/tether");

        assertThat(u.user()).isNull();
        assertThat(u.hasPassword()).isFalse();
        assertThat(u.withPassword("x").password()).isEqualTo("x");
        assertThat(u.withPassword("x").jdbcUrl()).isEqualTo("jdbc:postgresql://db/tether");
    }

    @Test
    void badUrlsAreRefusedWithoutQuotingThem() {
        for (String bad : new String[] {"mysql://u:secretpw@h/db", "postgresql://u:secretpw@/db",
                "postgresql://u:secretpw@h", "postgresql://u:secretpw@h/a/b", "postgresql://u:secretpw@h:x/db"}) {
            assertThatThrownBy(() -> PostgresUrl.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .message().doesNotContain("secretpw");
        }
    }
}
