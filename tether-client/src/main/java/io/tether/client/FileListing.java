package io.tether.client;

import java.util.List;

/**
 * A session's working directory, listed recursively.
 *
 * @param files its entries
 * @param truncated whether the listing stopped at the server's limit (10,000 entries)
 */
public record FileListing(List<SessionFile> files, boolean truncated) {
    public FileListing {
        files = List.copyOf(files);
    }
}
