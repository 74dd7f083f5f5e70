package io.tether.server.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.ResourceLink;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import io.tether.server.Api;
import io.tether.server.TetherServer;
import io.tether.server.auth.TokenStore;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an {@code execute} result cannot carry — a large image, a long output — comes back as
 * a {@code resource_link} to a file of the session that {@code resources/read} serves, on a
 * real server with real Python sessions, through the MCP Java SDK's client. Its sessions have
 * room for 16 MiB of output and a 24 MiB disk quota.
 */
class McpOutputFilesTest {
    @TempDir
    static Path dataDir;
    static TetherServer server;
    static String token;
    static Api alice;

    private final List<McpSyncClient> clients = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        server = Api.start(dataDir, Map.of("max_output_bytes", "16MiB", "worker_disk_quota", "24MiB"));
        token = TokenStore.open(dataDir).create("alice", false).token();
        alice = new Api(server.url(), token);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeClients() {
        clients.forEach(McpSyncClient::closeGracefully);
    }

    private McpSyncClient client() {
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(server.url())
                .endpoint("/mcp")
                .httpRequestCustomizer((builder, method, uri, body, context) ->
                        builder.header("Authorization", "Bearer " + token))
                .build();
        McpSyncClient c = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(120)).build();
        clients.add(c);
        c.initialize();
        return c;
    }

    private static CallToolResult execute(McpSyncClient c, String code) {
        CallToolResult r = c.callTool(new CallToolRequest("execute", Map.of("code", code)));
        assertThat(r.isError()).as(text(r)).isFalse();
        return r;
    }

    private static String text(CallToolResult r) {
        return r.content().stream().filter(TextContent.class::isInstance).map(x -> ((TextContent) x).text())
                .collect(Collectors.joining("\n"));
    }

    private static List<ResourceLink> links(CallToolResult r) {
        return r.content().stream().filter(ResourceLink.class::isInstance).map(ResourceLink.class::cast).toList();
    }

    @Test
    void aFiveMegabytePlotIsAResourceLinkWhoseReadGivesItsExactBytes() throws Exception {
        McpSyncClient c = client();
        CallToolResult r = execute(c, String.join("\n",
                "import io, base64, hashlib, numpy as np, matplotlib.pyplot as plt",
                "noise = np.random.default_rng(7).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)",
                "buf = io.BytesIO()",
                "plt.imsave(buf, noise, format='png')",
                "png = buf.getvalue()",
                "display({'image/png': base64.b64encode(png).decode(), 'text/plain': '<noise>'}, raw=True)",
                "print(len(png), hashlib.sha256(png).hexdigest())"));
        ResourceLink link = links(r).stream().filter(l -> "image/png".equals(l.mimeType())).findFirst()
                .orElseThrow(() -> new AssertionError(text(r)));
        assertThat(link.size()).isGreaterThan(5_000_000L);
        assertThat(link.name()).matches("tether-outputs/\\d+-display-1\\.png");
        assertThat(link.uri()).isEqualTo("tether://sessions/" + ((Map<?, ?>) r.structuredContent()).get("session")
                + "/files/" + link.name().replace("/", "%2F"));
        assertThat(r.content()).noneMatch(McpSchema.ImageContent.class::isInstance);
        assertThat(text(r)).contains("too large to show here").contains(link.name());

        McpSchema.ResourceContents read = c.readResource(new McpSchema.ReadResourceRequest(link.uri())).contents()
                .get(0);
        assertThat(read.mimeType()).isEqualTo("image/png");
        byte[] bytes = Base64.getDecoder().decode(((McpSchema.BlobResourceContents) read).blob());
        assertThat((long) bytes.length).isEqualTo(link.size());
        // the bytes the interpreter displayed, and a PNG of the array's size
        assertThat(((Map<?, ?>) r.structuredContent()).get("stdout")).isEqualTo(bytes.length + " "
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)) + "\n");
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(bytes));
        assertThat(png.getWidth()).isEqualTo(1400);
        assertThat(png.getHeight()).isEqualTo(1400);
    }

    @Test
    void aLongStdoutIsCappedTextAndALinkToTheWholeText() {
        McpSyncClient c = client();
        CallToolResult r = execute(c, "print(''.join(str(i % 10) for i in range(50_000)))");
        String capped = ((TextContent) r.content().get(0)).text();
        assertThat(capped).startsWith("0123456789").contains("30001 more characters cut")
                .contains("tether-outputs/");
        ResourceLink link = (ResourceLink) r.content().get(1);
        assertThat(link.name()).endsWith("-stdout.txt");
        assertThat(link.mimeType()).isEqualTo("text/plain");
        assertThat(link.size()).isEqualTo(50_001L);
        McpSchema.ResourceContents read = c.readResource(new McpSchema.ReadResourceRequest(link.uri())).contents()
                .get(0);
        String whole = ((McpSchema.TextResourceContents) read).text();
        assertThat(whole).hasSize(50_001).startsWith("0123456789").endsWith("6789\n");
        // read_file reaches the same file by its path below the working directory
        CallToolResult file = c.callTool(new CallToolRequest("read_file", Map.of("name", link.name())));
        assertThat(text(file)).startsWith("0123456789");
        assertThat(text(c.callTool(new CallToolRequest("list_files", Map.of())))).contains(link.name());
    }

    @Test
    void whatWouldPassTheDiskQuotaIsANoteAndTheSessionLivesOn() {
        McpSyncClient c = client();
        CallToolResult r = execute(c, String.join("\n",
                "import os, base64",
                "open('ballast', 'wb').write(b'\\0' * (20 * 2**20))",
                "display({'image/png': base64.b64encode(os.urandom(5 * 2**20)).decode()}, raw=True)",
                "print('x' * 30_000)"));
        // the long stdout still fits in what the quota leaves; the 5 MiB image does not
        assertThat(links(r)).singleElement().satisfies(l -> assertThat(l.name()).endsWith("-stdout.txt"));
        assertThat(text(r)).contains("left out").contains("not saved as a file").contains("disk quota");
        String session = (String) ((Map<?, ?>) r.structuredContent()).get("session");
        assertThat(alice.get("/v1/sessions/" + session).json().get("status")).isEqualTo("active");
        assertThat(((Map<?, ?>) execute(c, "1 + 1").structuredContent()).get("result")).isEqualTo("2");
    }
}
