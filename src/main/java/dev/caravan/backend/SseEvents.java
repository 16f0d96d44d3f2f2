package dev.caravan.backend;

import java.util.function.Consumer;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.core.streams.ReadStream;

/**
 * Reads server-sent events off an upstream response, line by line as bytes arrive: the data of each event
 * (multi-line data joined with \n) goes to {@code onData}. Accepts "data:" with or without the space (TGI omits
 * it) and CRLF line ends. The returned stream is what to pause and resume for back-pressure.
 */
final class SseEvents {

    private static final int MAX_LINE_BYTES = 8 * 1024 * 1024;

    private SseEvents() {
    }

    static ReadStream<Buffer> parse(ReadStream<Buffer> body, Consumer<String> onData) {
        StringBuilder data = new StringBuilder();
        RecordParser lines = RecordParser.newDelimited("\n", body);
        lines.maxRecordSize(MAX_LINE_BYTES); // an upstream that never ends a line fails instead of filling memory
        lines.handler(line -> {
            int length = line.length();
            if (length > 0 && line.getByte(length - 1) == '\r') {
                length--;
            }
            if (length == 0) {
                if (data.length() > 0) {
                    String event = data.toString();
                    data.setLength(0);
                    onData.accept(event);
                }
                return;
            }
            String text = line.getString(0, length);
            if (text.startsWith("data:")) {
                if (data.length() > 0) {
                    data.append('\n');
                }
                data.append(text, text.length() > 5 && text.charAt(5) == ' ' ? 6 : 5, text.length());
            }
            // comments (":"), "event:", "id:" and "retry:" lines carry nothing the gateway needs
        });
        lines.endHandler(v -> {
            if (data.length() > 0) {
                String event = data.toString();
                data.setLength(0);
                onData.accept(event);
            }
        });
        return lines;
    }
}
