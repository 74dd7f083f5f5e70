package io.tether.cli;

import io.tether.client.Completion;
import io.tether.client.TetherClient;
import io.tether.client.TetherClientException;
import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import org.jline.reader.Parser;

/**
 * Tab in {@code tether repl}: asks the server what may be typed at the cursor, from the
 * session's live namespace ({@code POST /v1/sessions/{id}/complete}). The session's own
 * interpreter decides what a word is (`os.pa`, `print(x`), so the line up to the cursor is
 * one word to jline ({@link #parser}) and each candidate is that word with the server's
 * range replaced. A failed call offers nothing: Tab must not break the line being typed.
 */
final class SessionCompleter implements Completer {
    private final TetherClient client;
    private final String sessionId;

    SessionCompleter(TetherClient client, String sessionId) {
        this.client = client;
        this.sessionId = sessionId;
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        candidates.addAll(candidates(line.line(), line.cursor()));
    }

    /** The candidates for {@code text} with the cursor at char index {@code cursor}. */
    List<Candidate> candidates(String text, int cursor) {
        Completion c;
        try {
            c = client.complete(sessionId, text, text.codePointCount(0, cursor));
        } catch (TetherClientException e) {
            return List.of();
        }
        if (c.cursorStart() > c.cursorEnd() || c.cursorEnd() > text.codePointCount(0, text.length())) {
            return List.of();
        }
        String before = text.substring(0, text.offsetByCodePoints(0, c.cursorStart()));
        // complete = false: no space after a name, code goes on with '.', '(' or an operator
        return c.matches().stream().map(m -> new Candidate(before + m, m, null, null, null, null, false)).toList();
    }

    /**
     * {@code parser} as it is, except that for completion the whole line up to the cursor is
     * the word being completed.
     */
    static Parser parser(Parser parser) {
        return (line, cursor, context) -> {
            if (context != Parser.ParseContext.COMPLETE) {
                return parser.parse(line, cursor, context);
            }
            String word = line.substring(0, cursor);
            return new ParsedLine() {
                @Override
                public String word() {
                    return word;
                }

                @Override
                public int wordCursor() {
                    return cursor;
                }

                @Override
                public int wordIndex() {
                    return 0;
                }

                @Override
                public List<String> words() {
                    return List.of(word);
                }

                @Override
                public String line() {
                    return line;
                }

                @Override
                public int cursor() {
                    return cursor;
                }
            };
        };
    }
}
