package io.tether.resource;

import java.util.Map;

/**
 * What a tracker holds right now.
 *
 * @param count     resources and background tasks held
 * @param totalCost the sum of their estimated costs
 * @param byType    count and cost per resource type
 */
public record ResourceStats(int count, long totalCost, Map<String, TypeStats> byType) {
    public ResourceStats {
        byType = Map.copyOf(byType);
    }

    /** An empty tracker's stats. */
    public static final ResourceStats EMPTY = new ResourceStats(0, 0, Map.of());

    /**
     * @param count resources of one type
     * @param cost  their summed estimated cost
     */
    public record TypeStats(int count, long cost) {
    }
}
