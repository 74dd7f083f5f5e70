package io.tether.server.mcp;

import io.modelcontextprotocol.spec.McpSchema.ResourceLink;
import io.tether.TetherException;
import io.tether.server.files.SessionFiles;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * The parts of one execution's result too large for the result itself, saved as files of
 * its session under {@value #FOLDER}{@code /<execution>-<part>.<ext>} ({@code 7-stdout.txt},
 * {@code 7-display-1.png}) through the server's one safe file access, and linked as
 * {@code resource_link}s to {@value McpFiles#FILE_TEMPLATE}.
 *
 * <p>The session's disk quota is checked first: the quota kills a worker whose directory
 * passes it, so a part that would take the directory past it (with a margin for what the
 * directory itself costs) is not saved, and neither is one over {@code max_file_bytes}; the
 * result then says why instead of linking it. The room is measured once per execution, on
 * the first part to save. Not thread-safe: one per result.
 */
final class OutputFiles implements ExecutionText.Spill {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OutputFiles.class);
    /** The folder of the working directory the parts go to. */
    static final String FOLDER = "tether-outputs";
    /** Room kept free beside a part: the folder's own entry and the temporary name while it is written. */
    private static final long MARGIN = 64 * 1024;

    private final SessionFiles files;
    private final Path root;
    private final String session;
    private final long execution;
    private final LongSupplier room;
    private long left = -1;

    /**
     * @param room the bytes the working directory can still take under its quota
     *     ({@link io.tether.session.SessionManager#diskRoom}); may throw {@link TetherException}
     *     when the session has ended meanwhile
     */
    OutputFiles(SessionFiles files, Path root, String session, long execution, LongSupplier room) {
        this.files = files;
        this.root = root;
        this.session = session;
        this.execution = execution;
        this.room = room;
    }

    @Override
    public ExecutionText.Saved save(String what, String extension, byte[] bytes) {
        String name = FOLDER + "/" + execution + "-" + what + "." + extension;
        if (bytes.length > files.maxFileBytes()) {
            return ExecutionText.Saved.not("it has " + bytes.length + " bytes, more than max_file_bytes ("
                    + files.maxFileBytes() + ")");
        }
        try {
            if (left < 0) {
                left = room.getAsLong();
            }
            if (bytes.length + MARGIN > left) {
                return ExecutionText.Saved.not("the session's working directory has room for " + Math.max(0, left - MARGIN)
                        + " more bytes under its disk quota (worker_disk_quota), this needs " + bytes.length);
            }
            files.write(root, SessionFiles.path(name), bytes);
        } catch (TetherException e) {
            return ExecutionText.Saved.not("saving " + name + " failed: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("could not save {} of session {}", name, session, e);
            return ExecutionText.Saved.not("saving " + name + " failed (" + e.getClass().getSimpleName()
                    + "; the server log has more)");
        }
        left -= bytes.length + MARGIN;
        return new ExecutionText.Saved(ResourceLink.builder().uri(McpFiles.uri(session, name)).name(name)
                .mimeType(McpFiles.mimeType(name)).size((long) bytes.length)
                .description("The whole " + what + " of execution " + execution + " (session " + session + ")")
                .build(), null);
    }
}
