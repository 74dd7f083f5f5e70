package io.tether.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RouteTest {
    private static final Route FILES = new Route("GET", "/v1/sessions/{id}/files/{path...}", false, (r, x) -> { });

    @Test
    void aVariableTakesOneSegmentAndARestVariableTheRest() {
        assertThat(FILES.match(List.of("v1", "sessions", "abc", "files", "data", "in.csv")))
                .isEqualTo(Map.of("id", List.of("abc"), "path", List.of("data", "in.csv")));
        assertThat(FILES.match(List.of("v1", "sessions", "abc", "files", "x"))).containsEntry("path", List.of("x"));
        assertThat(FILES.match(List.of("v1", "sessions", "abc", "files"))).isNull();
        assertThat(FILES.match(List.of("v1", "sessions", "abc", "filez", "x"))).isNull();
        assertThat(FILES.path()).isEqualTo("/v1/sessions/{id}/files/{path}");
        Route one = new Route("GET", "/v1/sessions/{id}", false, (r, x) -> { });
        assertThat(one.match(List.of("v1", "sessions", "abc"))).isEqualTo(Map.of("id", List.of("abc")));
        assertThat(one.match(List.of("v1", "sessions", "abc", "touch"))).isNull();
        assertThat(one.match(List.of("v1", "sessions"))).isNull();
    }

    @Test
    void aRestVariableMustBeLast() {
        assertThatThrownBy(() -> new Route("GET", "/a/{rest...}/b", false, (r, x) -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only the last");
    }

    @Test
    void noTemplateOfTheTableShadowsAnother() {
        Set<String> templates = Routes.TABLE.stream().map(Route::template).collect(Collectors.toSet());
        for (String template : templates) {
            List<String> sample = List.of(template.substring(1).replaceAll("\\{[a-z]+(\\.\\.\\.)?}", "x1").split("/"));
            assertThat(templates.stream().filter(t -> Routes.TABLE.stream().filter(r -> r.template().equals(t))
                    .findFirst().orElseThrow().match(sample) != null).toList()).as(template).containsExactly(template);
        }
    }
}
