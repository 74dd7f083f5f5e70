package io.tether.server;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A server in a JVM of its own for tests that kill it: {@code ChildServer --port 0 --auth none …}
 * takes the settings' flags ({@code --key-with-dashes VALUE}), prints the banner and closes the
 * server on SIGTERM, as {@code tether serve} does. The CLI lives in tether-cli, which depends
 * on this module, so the tests here cannot start it.
 */
public final class ChildServer {
    private ChildServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> flags = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            String flag = args[i];
            String key = Settings.all().stream().filter(s -> s.flag().equals(flag)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no setting " + flag)).key();
            flags.put(key, args[i + 1]);
        }
        TetherServer server = TetherServer.start(ServerConfig.from(Settings.resolve(flags, System.getenv(), null)));
        server.printBanner(new PrintWriter(System.out, true));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        stopped.await();
    }
}
