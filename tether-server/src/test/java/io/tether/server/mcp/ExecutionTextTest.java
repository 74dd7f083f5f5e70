package io.tether.server.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.ImageContent;
import io.modelcontextprotocol.spec.McpSchema.ResourceLink;
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
    /** A session whose files cannot take anything. */
    private static final ExecutionText.Spill NOWHERE = (what, extension, bytes) ->
            ExecutionText.Saved.not("nowhere to save it");

    /** The files a spill saved, by name, each linked as a real one would be. */
    private static final class Saving implements ExecutionText.Spill {
        final Map<String, byte[]> saved = new java.util.LinkedHashMap<>();

        @Override
        public ExecutionText.Saved save(String what, String extension, byte[] bytes) {
            String name = "tether-outputs/3-" + what + "." + extension;
            saved.put(name, bytes);
            return new ExecutionText.Saved(ResourceLink.builder().name(name).uri(McpFiles.uri("s1", name))
                    .mimeType(McpFiles.mimeType(name)).size((long) bytes.length).build(), null);
        }
    }

    private static ExecutionResult result(ExecutionStatus status, String stdout, Map<String, Object> value,
                                          ExecutionError error) {
        return new ExecutionResult(3, status, stdout, "", value, error, Duration.ofMillis(20), false);
    }

    @Test
    void anImageInTheValuesBundleIsImageContent() {
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.OK, "",
                Map.of("text/plain", "<Figure>", "image/png", "iVBORw0KGgo="), null), null, 1_000, NOWHERE);
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
        CallToolResult r = ExecutionText.result("s1", shown, null, 1_000, NOWHERE);
        List<String> seen = r.content().stream().map(c -> c instanceof ImageContent i ? "image:" + i.mimeType()
                + ":" + i.data().length() : ((TextContent) c).text()).toList();
        // 8,000 base64 characters for all images: the third image no longer fits
        assertThat(seen.subList(0, 5)).containsExactly("a\n", "image:image/png:4", "   x\n0  1",
                "image:image/jpeg:7000", "[an image/png image of 1500 bytes was left out: too large to show here, and not saved as a file "
                        + "(nowhere to save it)]");
    }

    @Test
    void anImageTooLargeIsLeftOutWithANote() {
        String big = "A".repeat(9_000);
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.OK, "",
                Map.of("image/png", big), null), null, 1_000, NOWHERE);
        assertThat(r.content()).noneMatch(ImageContent.class::isInstance);
        assertThat(r.content()).anyMatch(c -> c instanceof TextContent t && t.text().contains("left out"));
    }

    @Test
    void anErrorIsAToolErrorWithItsTraceback() {
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.ERROR, "",
                Map.of(), new ExecutionError("ZeroDivisionError", "division by zero",
                        List.of("Traceback (most recent call last):", "ZeroDivisionError: division by zero"))),
                null, 1_000, NOWHERE);
        assertThat(r.isError()).isTrue();
        assertThat(r.content()).anyMatch(c -> c instanceof TextContent t && t.text().contains("Traceback"));
    }

    @Test
    void longOutputIsCutWithHowMuchAndWhereTheRestIs() {
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.OK, "x".repeat(1_500), Map.of(), null),
                null, 1_000, NOWHERE);
        String stdout = ((TextContent) r.content().get(0)).text();
        assertThat(stdout).startsWith("x".repeat(1_000)).contains("500 more characters cut")
                .contains("execution 3 of session s1");
    }

    @Test
    void longOutputIsCutAndTheWholeTextFollowsAsAResourceLink() {
        Saving files = new Saving();
        String stdout = "é".repeat(1_200) + "end";
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.OK, stdout, Map.of(), null), null, 1_000,
                files);
        assertThat(files.saved).containsOnlyKeys("tether-outputs/3-stdout.txt");
        assertThat(new String(files.saved.get("tether-outputs/3-stdout.txt"), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(stdout);
        String capped = ((TextContent) r.content().get(0)).text();
        assertThat(capped).startsWith("é".repeat(1_000)).contains("203 more characters cut")
                .contains("tether-outputs/3-stdout.txt");
        ResourceLink link = (ResourceLink) r.content().get(1);
        assertThat(link.uri()).isEqualTo("tether://sessions/s1/files/tether-outputs%2F3-stdout.txt");
        assertThat(link.mimeType()).isEqualTo("text/plain");
        assertThat(link.size()).isEqualTo(2_403L);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> linked = (List<Map<String, Object>>) ((Map<String, Object>) r.structuredContent())
                .get("files");
        assertThat(linked).singleElement().satisfies(f -> assertThat(f).containsEntry("uri", link.uri()));
    }

    @Test
    void anImageOverTheBudgetIsSavedAsItsBytesAndLinked() {
        Saving files = new Saving();
        byte[] png = new byte[9_000];
        new java.util.Random(1).nextBytes(png);
        String base64 = java.util.Base64.getEncoder().encodeToString(png);
        java.util.List<io.tether.runtime.Output> outputs = List.of(
                new io.tether.runtime.Output.DisplayData(Map.of("image/png", base64), Map.of(), false));
        CallToolResult r = ExecutionText.result("s1", new ExecutionResult(3, ExecutionStatus.OK, "", "", Map.of(), null,
                Duration.ofMillis(20), false, outputs), null, 1_000, files);
        assertThat(files.saved.get("tether-outputs/3-display-1.png")).isEqualTo(png);
        assertThat(r.content()).noneMatch(ImageContent.class::isInstance);
        assertThat(((TextContent) r.content().get(0)).text()).contains("9000 bytes").contains("too large")
                .contains("tether-outputs/3-display-1.png");
        assertThat(((ResourceLink) r.content().get(1)).mimeType()).isEqualTo("image/png");
    }

    @Test
    void whatCannotBeSavedIsANoteAndTheCallStillAnswers() {
        CallToolResult r = ExecutionText.result("s1", result(ExecutionStatus.OK, "y".repeat(1_500), Map.of(
                "image/png", "A".repeat(9_000)), null), null, 1_000, (what, extension, bytes) ->
                ExecutionText.Saved.not("the disk quota is full"));
        assertThat(r.isError()).isFalse();
        assertThat(r.content()).noneMatch(ResourceLink.class::isInstance);
        assertThat(((TextContent) r.content().get(0)).text()).contains("500 more characters cut")
                .contains("not saved as a file (the disk quota is full)")
                .contains("GET /v1/sessions/s1/executions/3");
        assertThat(r.content()).anyMatch(c -> c instanceof TextContent t && t.text().contains("left out")
                && t.text().contains("the disk quota is full"));
    }
}
