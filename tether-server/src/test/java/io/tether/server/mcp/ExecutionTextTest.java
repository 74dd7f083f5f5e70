package io.tether.server.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.ImageContent;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.tether.runtime.ExecutionError;
import io.tether.runtime.ExecutionResult;
import io.tether.runtime.ExecutionStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How an execution's result reads to an agent. */
class ExecutionTextTest {
    private static ExecutionResult result(ExecutionStatus status, String stdout, Map<String, Object> value,
                                          ExecutionError error) {
        return new ExecutionResult(3, status, stdout, "", value, error, Duration.ofMillis(20), false);
    }

    @Test
    void anImageInTheValuesBundleIsImageContent() {
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.OK, "",
                Map.of("text/plain", "<Figure>", "image/png", "iVBORw0KGgo="), null), null, 1_000);
        assertThat(r.content()).filteredOn(ImageContent.class::isInstance).singleElement()
                .satisfies(c -> {
                    assertThat(((ImageContent) c).mimeType()).isEqualTo("image/png");
                    assertThat(((ImageContent) c).data()).isEqualTo("iVBORw0KGgo=");
                });
    }

    @Test
    void displayedImagesAreImageContentInOrderAndShareOneBudget() {
        java.util.List<io.tether.runtime.Output> outputs = List.of(
                new io.tether.runtime.Output.StreamText(io.tether.runtime.OutputListener.Stream.STDOUT, "a\n"),
                new io.tether.runtime.Output.DisplayData(Map.of("text/plain", "<Figure 1>", "image/png", "AAAA"),
                        Map.of(), false),
                new io.tether.runtime.Output.DisplayData(Map.of("text/plain", "   x\n0  1", "text/html", "<table>"),
                        Map.of(), false),
                new io.tether.runtime.Output.DisplayData(Map.of("image/jpeg", "B".repeat(7_000)), Map.of(), false),
                new io.tether.runtime.Output.DisplayData(Map.of("image/png", "C".repeat(2_000)), Map.of(), false));
        ExecutionResult shown = new ExecutionResult(3, ExecutionStatus.OK, "a\n", "", Map.of(), null,
                Duration.ofMillis(20), false, outputs);
        CallToolResult r = ExecutionText.result("s1", shown, null, 1_000);
        List<String> seen = r.content().stream().map(c -> c instanceof ImageContent i ? "image:" + i.mimeType()
                + ":" + i.data().length() : ((TextContent) c).text()).toList();
        // 8,000 base64 characters for all images: the third image no longer fits
        assertThat(seen.subList(0, 5)).containsExactly("a\n", "image:image/png:4", "   x\n0  1",
                "image:image/jpeg:7000", "[an image/png image of 1500 bytes was left out: too large to show here]");
    }

    @Test
    void anImageTooLargeIsLeftOutWithANote() {
        String big = "A".repeat(9_000);
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.OK, "",
                Map.of("image/png", big), null), null, 1_000);
        assertThat(r.content()).noneMatch(ImageContent.class::isInstance);
        assertThat(r.content()).anyMatch(c -> c instanceof TextContent t && t.text().contains("left out"));
    }

    @Test
    void anErrorIsAToolErrorWithItsTraceback() {
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.ERROR, "",
                Map.of(), new ExecutionError("ZeroDivisionError", "division by zero",
                        List.of("Traceback (most recent call last):", "ZeroDivisionError: division by zero"))),
                null, 1_000);
        assertThat(r.isError()).isTrue();
        assertThat(r.content()).anyMatch(c -> c instanceof TextContent t && t.text().contains("Traceback"));
    }

    @Test
    void longOutputIsCutWithHowMuchAndWhereTheRestIs() {
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.OK, "x".repeat(1_500), Map.of(), null),
                null, 1_000);
        String stdout = ((TextContent) r.content().get(0)).text();
        assertThat(stdout).startsWith("x".repeat(1_000)).contains("500 more characters cut")
                .contains("execution 3 of session s1");
    }
}
