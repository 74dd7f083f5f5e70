package io.tether.client;

import java.util.List;

/**
 * One page of a session's execution history.
 *
 * @param items the executions, newest first, each whole (code, output, times); the running
 *     one, if any, first with status {@code running}
 * @param nextCursor pass to {@link TetherClient#executions(String, int, String)} for the next
 *     page; {@code null} on the last page
 */
public record ExecutionPage(List<Execution> items, String nextCursor) {
    public ExecutionPage {
        items = List.copyOf(items);
    }

    public boolean hasMore() {
        return nextCursor != null;
    }
}
