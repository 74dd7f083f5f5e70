package io.tether.client;

import java.time.Instant;

/**
 * An entry of a session's working directory.
 *
 * @param path its path below the working directory, {@code /}-separated
 * @param type {@code file}, {@code directory}, {@code symlink} (listed, never followed) or {@code other}
 * @param size bytes for a file, {@code -1} otherwise
 * @param modifiedAt last modification
 */
public record SessionFile(String path, String type, long size, Instant modifiedAt) {
}
