package io.tether.runtime.device;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/** A REPL on a TCP socket. */
final class TcpLink implements DeviceLink {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;

    private TcpLink(Socket socket) {
        this.socket = socket;
    }

    static TcpLink connect(String hostPort) throws DeviceException {
        int c = hostPort.lastIndexOf(':');
        String host = hostPort.substring(0, c);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, Integer.parseInt(hostPort.substring(c + 1))),
                    (int) CONNECT_TIMEOUT.toMillis());
            return new TcpLink(socket);
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing was opened
            }
            throw new DeviceException(DeviceException.Kind.LOST, "cannot connect to tcp:" + hostPort + ": "
                    + e.getMessage());
        }
    }

    @Override
    public InputStream input() {
        try {
            return socket.getInputStream();
        } catch (IOException e) {
            return InputStream.nullInputStream();
        }
    }

    @Override
    public OutputStream output() {
        try {
            return socket.getOutputStream();
        } catch (IOException e) {
            return OutputStream.nullOutputStream();
        }
    }

    @Override
    public long pid() {
        return -1;
    }

    @Override
    public boolean isOpen() {
        return !socket.isClosed();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing a socket that failed is still closing it
        }
    }
}
