package io.tether.session;

import io.tether.ErrorCode;
import io.tether.TetherException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts the workers each owner's sessions hold, per runtime (sessions being created count),
 * and refuses one past the owner's share of that runtime. Without it one owner's burst of
 * creates takes every worker of a pool and the next owner waits for one that never frees.
 * Reservations are atomic: under any number of threads no count passes its limit.
 */
final class WorkerShares {
    private record OwnerRuntime(String owner, String runtime) {
    }

    private final Map<String, Integer> maxPerOwner;
    private final ConcurrentHashMap<OwnerRuntime, Integer> held = new ConcurrentHashMap<>();

    /** @param maxPerOwner by runtime name; a runtime not named has no share */
    WorkerShares(Map<String, Integer> maxPerOwner) {
        this.maxPerOwner = Map.copyOf(maxPerOwner);
    }

    /** @throws TetherException {@code limit_exceeded} when the owner holds its share already */
    void reserve(String owner, String runtime) {
        Integer max = maxPerOwner.get(runtime);
        if (max == null) {
            return;
        }
        held.compute(new OwnerRuntime(owner, runtime), (k, n) -> {
            int count = n == null ? 0 : n;
            if (count >= max) {
                throw new TetherException(ErrorCode.LIMIT_EXCEEDED, "worker share reached: owner '" + owner
                        + "' holds " + max + " " + runtime + " workers, the most one owner may hold at once; "
                        + "end one of its sessions first");
            }
            return count + 1;
        });
    }

    void release(String owner, String runtime) {
        if (maxPerOwner.containsKey(runtime)) {
            held.computeIfPresent(new OwnerRuntime(owner, runtime), (k, n) -> n <= 1 ? null : n - 1);
        }
    }
}
