package io.tether.bench.compare;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.bench.compare.PeerFigures.Capacity;
import io.tether.bench.compare.PeerFigures.Capacity10k;
import io.tether.bench.compare.PeerFigures.ColdStart;
import io.tether.bench.compare.PeerFigures.Memory;
import io.tether.bench.compare.PeerFigures.Throughput;
import io.tether.bench.compare.Stats.Latency;
import java.util.List;
import java.util.Map;

/** Made-up figures of the shape a real run produces, scaled by {@code k} so runs differ. */
final class Fixtures {
    private Fixtures() {
    }

    static Results.Run run(int number, double k) {
        PeerFigures tether = new PeerFigures(Results.TETHER, latency(2 * k), latency(1.5 * k), latency(0.2 * k),
                latency(0.25 * k),
                new Throughput(8, 5, 20_000, 4_000 / k, 0.3, 0.2),
                new Memory(10, 1.5 * k, 1.4, 1.7, 1.2, 9.8, 180, 12), new Capacity(2048, 2000, 900, 2040, 190, 2.05,
                "budget", 12), latency(0.1 * k), latency(0.2 * k), new ColdStart(300 * k, 400 * k, latency(0.3 * k)),
                number == 1 ? capacity10k() : null);
        PeerFigures emptyPool = new PeerFigures(Results.TETHER_EMPTY_POOL, latency(5 * k), latency(4 * k), null, null,
                null, null, null);
        PeerFigures stock = new PeerFigures(Results.JUPYTER_STOCK, latency(900), latency(700), latency(48), latency(48),
                new Throughput(8, 5, 750, 150, 9, 0.5), null, null, latency(48), null,
                new ColdStart(1800, 2500, latency(60)), null);
        PeerFigures nodelay = new PeerFigures(Results.JUPYTER_NODELAY, latency(850), latency(700), latency(8), latency(9),
                new Throughput(8, 5, 800, 160, 8, 0.5), new Memory(10, 55, 54, 57, 50, 70, 75, 0),
                new Capacity(2048, 2000, 34, 2020, 75, 57.2, "budget", 50), latency(8), null, null, null);
        return new Results.Run(number, List.of(Results.TETHER, Results.JUPYTER_STOCK, Results.JUPYTER_NODELAY),
                2.0, 3.0, 0.5, Map.of(Results.TETHER, tether, Results.TETHER_EMPTY_POOL, emptyPool,
                Results.JUPYTER_STOCK, stock, Results.JUPYTER_NODELAY, nodelay));
    }

    /** 9,990 of 10,000 sessions answered: one create failed after them. */
    static Capacity10k capacity10k() {
        return new Capacity10k(10_000, 9_991, 9_990, "execute in session 9991 failed: HTTP 500", 15_900, 200,
                1.57, 95, 20_003, 30_010, 30_050, 65_536, 65_536, 0, 12.5, 900, 9_891);
    }

    static Latency latency(double medianMs) {
        return new Latency(100, medianMs, medianMs * 3, medianMs * 4);
    }

    static Results results() {
        return new Results(List.of(run(1, 1.0), run(2, 0.8), run(3, 1.25)));
    }

    static Machine machine() {
        ObjectNode jupyter = Http.JSON.createObjectNode();
        jupyter.put("python", "3.11.2");
        jupyter.put("jupyter_server", "1.23.3");
        jupyter.put("ipykernel", "6.17.0");
        jupyter.put("jupyter_client", "7.4.9");
        jupyter.put("tornado", "6.2");
        jupyter.put("pyzmq", "24.0.1");
        return new Machine("2026-11-21T22:00:00Z", "Test CPU", 2, 24, "6.18", "25", "3.11.2", jupyter, "abc123");
    }
}
