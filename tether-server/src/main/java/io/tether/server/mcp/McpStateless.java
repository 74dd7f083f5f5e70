package io.tether.server.mcp;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.modern.McpException;
import io.modelcontextprotocol.modern.McpSchema;
import io.modelcontextprotocol.modern.server.McpAsyncResponse;
import io.modelcontextprotocol.modern.server.McpRequestContext;
import io.modelcontextprotocol.modern.server.McpSyncResponse;
import io.modelcontextprotocol.modern.server.McpServer;
import io.modelcontextprotocol.modern.server.feature.McpAsyncTool;
import io.modelcontextprotocol.modern.server.feature.McpAsyncToolRepository;
import io.modelcontextprotocol.modern.server.feature.McpSyncResource;
import io.modelcontextprotocol.modern.server.feature.McpSyncResourceRepository;
import io.modelcontextprotocol.modern.server.feature.ResourceTemplatesPage;
import io.modelcontextprotocol.modern.server.feature.ResourcesFeature;
import io.modelcontextprotocol.modern.server.feature.ResourcesPage;
import io.modelcontextprotocol.modern.server.feature.ToolsFeature;
import io.modelcontextprotocol.modern.server.feature.ToolsPage;
import io.modelcontextprotocol.modern.server.transport.HttpServletMcpTransport;
import io.modelcontextprotocol.server.McpTransportContextExtractor;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The tools and file resources for protocol revision 2026-07-28, which has no protocol sessions: every request
 * stands alone and state is reached by explicit handles (Tether session ids). Served by the
 * SDK's implementation of that revision ({@code io.modelcontextprotocol.modern}) beside the
 * 2025-11-25 transport on the same {@code /mcp}; {@link #wants} tells its requests apart.
 *
 * <p>The tools are the same {@link McpTools.Definition}s; without a protocol session there
 * is no automatic session, so {@code execute} without {@code session} creates one and
 * returns its handle. A call runs off the request's thread; when the client closes the
 * response stream the SDK drops the call, and the execution is cancelled as a
 * {@code notifications/cancelled} would ({@link McpCalls#cancel}).
 */
final class McpStateless {
    /** The revision this serves. */
    static final String REVISION = "2026-07-28";
    /** The header every 2026-07-28 request carries; earlier revisions never send it. */
    static final String METHOD_HEADER = "Mcp-Method";

    private final McpServer server;
    private final HttpServletMcpTransport transport;

    private McpStateless(McpServer server, HttpServletMcpTransport transport) {
        this.server = server;
        this.transport = transport;
    }

    /** Whether {@code request} speaks 2026-07-28 (else an earlier revision's transport takes it). */
    static boolean wants(HttpServletRequest request) {
        return request.getHeader(METHOD_HEADER) != null
                || REVISION.equals(request.getHeader("MCP-Protocol-Version"));
    }

    static McpStateless create(McpTools tools, McpCalls calls, McpJsonMapper json, String version,
                               String instructions, String endpoint, int maxBodyBytes,
                               McpTransportContextExtractor<HttpServletRequest> context) {
        List<McpTools.Definition> definitions = tools.definitions();
        List<McpSchema.Tool> listed = definitions.stream()
                .map(d -> McpSchema.Tool.builder(d.name(), d.schema()).description(d.description()).build())
                .toList();
        McpAsyncToolRepository repository = new McpAsyncToolRepository() {
            @Override
            public Mono<ToolsPage> list(McpRequestContext ctx, String cursor) {
                return Mono.just(ToolsPage.of(listed));
            }

            @Override
            public Mono<McpAsyncTool> find(McpRequestContext ctx, String name) {
                for (int i = 0; i < definitions.size(); i++) {
                    if (definitions.get(i).name().equals(name)) {
                        McpTools.Definition d = definitions.get(i);
                        return Mono.just(McpAsyncTool.of(listed.get(i), (c, request) -> call(d, c, request, calls,
                                json)));
                    }
                }
                return Mono.empty();
            }
        };
        McpServer server = McpServer.builder()
                .serverInfo(McpSchema.Implementation.builder("tether", version).build())
                .instructions(instructions)
                .supportedVersions(List.of(REVISION))
                .jsonMapper(json)
                .feature(ToolsFeature.ofAsync(repository))
                .feature(ResourcesFeature.ofSync(resources(tools)))
                .build();
        HttpServletMcpTransport transport = HttpServletMcpTransport.builder(server)
                .jsonMapper(json)
                .endpoint(endpoint)
                .maxRequestSize(maxBodyBytes)
                .contextExtractor(context)
                .build();
        return new McpStateless(server, transport);
    }

    /**
     * The session files as resources, as on the earlier revisions ({@link McpTools#resource}):
     * the template listed, any {@code tether://sessions/…} URI read as the caller. A URI that
     * names no file of the caller's — another owner's session, an ended one, a missing file —
     * is {@code -32602} with the URI as data, this revision's "resource not found".
     */
    private static McpSyncResourceRepository resources(McpTools tools) {
        McpSchema.ResourceTemplate template = McpSchema.ResourceTemplate.builder(McpFiles.FILE_TEMPLATE, "session-file")
                .description(McpTools.TEMPLATE_DESCRIPTION).build();
        return new McpSyncResourceRepository() {
            @Override
            public ResourcesPage list(McpRequestContext ctx, String cursor) {
                return ResourcesPage.of(List.of()); // a session's files change as its code runs: the template names them
            }

            @Override
            public ResourceTemplatesPage listTemplates(McpRequestContext ctx, String cursor) {
                return ResourceTemplatesPage.of(List.of(template));
            }

            @Override
            public McpSyncResource find(McpRequestContext ctx, String uri) {
                return McpSyncResource.of((c, request) -> McpSyncResponse.result(read(tools, c, request.uri())));
            }
        };
    }

    private static McpSchema.ReadResourceResult read(McpTools tools, McpRequestContext ctx, String uri) {
        McpFiles.Contents c;
        try {
            c = tools.resource(ctx.transportContext(), uri);
        } catch (ToolError e) {
            throw new McpException(McpSchema.ErrorCodes.INVALID_PARAMS, e.getMessage(), Map.of("uri", uri));
        }
        McpSchema.ResourceContents contents = c.text() != null
                ? McpSchema.TextResourceContents.builder(uri, c.text()).mimeType(c.mimeType()).build()
                : McpSchema.BlobResourceContents.builder(uri, Base64.getEncoder().encodeToString(c.blob()))
                        .mimeType(c.mimeType()).build();
        return McpSchema.ReadResourceResult.builder(List.of(contents)).build();
    }

    /**
     * One call, streamed (progress notifications when asked for) on a thread of its own; a
     * client that closes the stream cancels it.
     */
    private static Mono<McpAsyncResponse<McpSchema.CallToolOutcome>> call(
            McpTools.Definition d, McpRequestContext ctx, McpSchema.CallToolRequest request, McpCalls calls,
            McpJsonMapper json) {
        String scope = "stream-" + UUID.randomUUID();
        String id = String.valueOf(ctx.requestId());
        Object token = ctx.progressToken();
        return Mono.just(McpAsyncResponse.streaming(notifier -> Mono.fromCallable(() -> {
            McpTools.Caller caller = new McpTools.Caller(McpTools.principal(ctx.transportContext()), null, scope, id,
                    token, (n, message) -> {
                        try {
                            notifier.progress(n, null, message).block();
                        } catch (RuntimeException e) {
                            calls.cancel(scope, id); // the client closed the stream
                            throw e;
                        }
                    }, McpTools.attribute(ctx.transportContext(), McpGate.AUTHORIZATION),
                    McpTools.attribute(ctx.transportContext(), McpGate.FORWARDED_BY));
            CallToolResult result = d.call(caller, request.arguments() == null ? Map.of() : request.arguments());
            return (McpSchema.CallToolOutcome) json.convertValue(result, McpSchema.CallToolResult.class);
        }).subscribeOn(Schedulers.boundedElastic()).doOnCancel(() -> calls.cancel(scope, id))));
    }

    /** The servlet that answers 2026-07-28 requests. */
    HttpServletMcpTransport servlet() {
        return transport;
    }

    void close() {
        transport.closeGracefully();
        server.closeGracefully();
    }
}
