package io.tether.cli;

import io.tether.client.ExecutionOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Saves the images of displayed outputs and values to files, for a terminal that cannot
 * show them: {@code SESSION-N-K.EXT} (execution {@code N}'s {@code K}th image) in a
 * directory made when the first image comes.
 */
final class OutputFiles {
    /** Where images go unless {@code --output-dir} says otherwise: relative to the current directory. */
    static final Path DEFAULT_DIRECTORY = Path.of("tether-outputs");

    /** The image types saved, in the order a bundle's are looked at, with their file extensions. */
    private static final Map<String, String> IMAGES = Map.of("image/png", "png", "image/jpeg", "jpg",
            "image/gif", "gif", "image/webp", "webp", "image/svg+xml", "svg");
    private static final List<String> ORDER = List.of("image/png", "image/jpeg", "image/gif", "image/webp",
            "image/svg+xml");

    private final Path directory;
    private long number = -1;
    private int count;

    OutputFiles(Path directory) {
        this.directory = directory == null ? DEFAULT_DIRECTORY : directory;
    }

    /** Where the images go. */
    Path directory() {
        return directory;
    }

    /** A saved image: its path, MIME type and size in bytes. */
    record Saved(Path path, String mimeType, long bytes) {
        String describe() {
            return "[" + mimeType + ", " + bytes + " bytes: " + path + "]";
        }
    }

    /**
     * Saves the images of a bundle of execution {@code number} of {@code sessionId}.
     *
     * @throws IOException when the directory or a file cannot be written
     * @throws IllegalArgumentException when a binary image is not base64
     */
    List<Saved> save(String sessionId, long number, ExecutionOutput.Bundle bundle) throws IOException {
        if (number != this.number) {
            this.number = number;
            count = 0;
        }
        List<Saved> saved = new ArrayList<>();
        for (String type : ORDER) {
            Object value = bundle.data().get(type);
            if (!(value instanceof String text)) {
                continue;
            }
            byte[] bytes = type.equals("image/svg+xml") ? text.getBytes(StandardCharsets.UTF_8) : bundle.bytes(type);
            Files.createDirectories(directory);
            Path file = directory.resolve(sessionId + "-" + number + "-" + ++count + "." + IMAGES.get(type));
            Files.write(file, bytes);
            saved.add(new Saved(file, type, bytes.length));
        }
        return saved;
    }
}
