package io.tether.server.http;

import io.tether.ErrorCode;
import io.tether.server.cluster.NodeRouter;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards a request to the node that holds its session, with Jetty's reverse proxy: the
 * body and the answer stream through as they come (an event stream is not buffered), the
 * status and end-to-end headers pass unchanged (the token too, so the owner authenticates
 * the caller again), and {@value NodeRouter#FORWARDED_BY} names this node, so the owner
 * never forwards it on. When the owner cannot be reached the caller gets
 * {@code node_unavailable} as problem details: 503 when no connection was made (nothing
 * happened), 502 when the owner failed after the request was sent (it may have acted).
 *
 * <p>A Jetty component: the server starts and stops it (its HTTP client).
 */
public final class Forwarder extends ProxyHandler {
    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
    private static final String TARGET = Forwarder.class.getName() + ".target";

    private final String node;
    private final Duration idleTimeout;

    /**
     * @param node        this node's id, sent in {@value NodeRouter#FORWARDED_BY}
     * @param idleTimeout how long a forwarded request may wait for bytes from the owner
     *                    (an execution without a stream sends nothing until it ends); zero for ever
     */
    public Forwarder(String node, Duration idleTimeout) {
        this.node = node;
        this.idleTimeout = idleTimeout;
    }

    /** Forwards {@code request} to the node at {@code baseUrl}; completes {@code callback} when the answer is sent. */
    void forward(Request request, Response response, Callback callback, String baseUrl) {
        request.setAttribute(TARGET, baseUrl);
        handle(request, response, callback);
    }

    @Override
    protected HttpURI rewriteHttpURI(Request request) {
        HttpURI uri = request.getHttpURI();
        return HttpURI.build((String) request.getAttribute(TARGET)).path(uri.getPath()).query(uri.getQuery());
    }

    @Override
    protected void configureHttpClient(HttpClient client) {
        super.configureHttpClient(client);
        client.setIdleTimeout(idleTimeout.toMillis());
        client.setFollowRedirects(false);
    }

    /** Every end-to-end header but {@code Host}, which names the owner (its Host check accepts its node URL). */
    @Override
    protected void copyRequestHeaders(Request clientToProxy, org.eclipse.jetty.client.Request proxyToServer) {
        super.copyRequestHeaders(clientToProxy, proxyToServer);
        proxyToServer.headers(h -> h.remove(HttpHeader.HOST));
    }

    @Override
    protected void addProxyHeaders(Request clientToProxy, org.eclipse.jetty.client.Request proxyToServer) {
        super.addProxyHeaders(clientToProxy, proxyToServer);
        proxyToServer.headers(h -> h.put(NodeRouter.FORWARDED_BY, node));
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected void onServerToProxyResponseFailure(Request clientToProxy, org.eclipse.jetty.client.Request proxyToServer,
                                                  org.eclipse.jetty.client.Response serverToProxy,
                                                  Response proxyToClient, Callback callback, Throwable failure) {
        if (proxyToClient.isCommitted()) {
            LOG.debug("forwarding to {} failed after the answer began: {}", proxyToServer.getURI(), failure.toString());
            super.onServerToProxyResponseFailure(clientToProxy, proxyToServer, serverToProxy, proxyToClient, callback,
                    failure);
            return;
        }
        // Not connected: the holder never saw the request, so nothing changed (503, clients may
        // retry). Otherwise it may have acted on it: 502, which clients retry only when idempotent.
        boolean neverSent = causedBy(failure, java.net.ConnectException.class)
                || causedBy(failure, java.nio.channels.UnresolvedAddressException.class);
        int status = neverSent ? 503 : 502;
        String where = proxyToServer.getScheme() + "://" + proxyToServer.getHost() + ":" + proxyToServer.getPort();
        LOG.warn("forwarding {} {} to {} failed: {}", clientToProxy.getMethod(), proxyToServer.getPath(), where,
                failure.toString());
        byte[] body = Wire.bytes(Wire.problem(status, ErrorCode.NODE_UNAVAILABLE, neverSent
                ? "the node that holds this session, at " + where + ", could not be reached ("
                        + failure.getClass().getSimpleName() + "); nothing was done. Retry in a moment: if that node "
                        + "is gone, its sessions end node_lost once its lease lapses"
                : "the node that holds this session, at " + where + ", failed before it answered ("
                        + failure.getClass().getSimpleName() + "); the request may have taken effect there"));
        proxyToClient.reset();
        proxyToClient.setStatus(status);
        proxyToClient.getHeaders().put(HttpHeader.CONTENT_TYPE, Wire.PROBLEM_TYPE);
        proxyToClient.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        proxyToClient.write(true, ByteBuffer.wrap(body), callback);
    }
}
