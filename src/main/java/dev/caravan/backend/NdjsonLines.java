package dev.caravan.backend;

import java.util.function.Consumer;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.core.streams.ReadStream;

/**
 * Reads newline-delimited JSON (Ollama's streams) off an upstream response as the bytes arrive: each non-blank
 * line, without its line end (LF or CRLF), goes to {@code onLine} as raw bytes for Jackson to parse, so no
 * String is made per token. The returned stream is what to pause and resume for back-pressure: while it is
 * paused, lines already received wait in the parser instead of being delivered.
 */
final class NdjsonLines {

    /** A line longer than this is not Ollama talking: fail instead of buffering without bound. */
    private static final int MAX_LINE_BYTES = 8 * 1024 * 1024;

    private NdjsonLines() {
    }

    static ReadStream<Buffer> parse(ReadStream<Buffer> body, Consumer<Buffer> onLine) {
        RecordParser lines = RecordParser.newDelimited("\n", body).maxRecordSize(MAX_LINE_BYTES);
        lines.handler(line -> {
            int length = line.length();
            if (length > 0 && line.getByte(length - 1) == '\r') {
                length--;
            }
            if (isBlank(line, length)) {
                return; // keep-alive blank lines carry nothing
            }
            onLine.accept(length == line.length() ? line : line.getBuffer(0, length));
        });
        return lines;
    }

    private static boolean isBlank(Buffer line, int length) {
        for (int i = 0; i < length; i++) {
            byte b = line.getByte(i);
            if (b != ' ' && b != '\t') {
                return false;
            }
        }
        return true;
    }
}
