package dev.caravan.backend;

import java.util.function.Consumer;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.core.streams.ReadStream;

/**
 * Reads server-sent events off an upstream response, line by line as bytes arrive: the data of each event
 * (multi-line data joined with \n) goes to {@code onData}. Accepts "data:" with or without the space (TGI omits
 * it) and CRLF line ends. The returned stream is what to pause and resume for back-pressure, and its exception
 * handler hears of a line, or an event, longer than the gateway buffers.
 */
final class SseEvents {

    private static final int MAX_LINE_BYTES = 8 * 1024 * 1024;

    private SseEvents() {
    }

    static ReadStream<Buffer> parse(ReadStream<Buffer> body, Consumer<String> onData) {
        return parse(body, onData, MAX_LINE_BYTES);
    }

    static ReadStream<Buffer> parse(ReadStream<Buffer> body, Consumer<String> onData, int maxBytes) {
        StringBuilder data = new StringBuilder();
        RecordParser lines = RecordParser.newDelimited("\n", body);
        lines.maxRecordSize(maxBytes); // an upstream that never ends a line fails instead of filling memory
        Events events = new Events(lines);
        lines.handler(line -> {
            if (events.failed) {
                return;
            }
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
                if (data.length() + length > maxBytes) {
                    // many data lines and never a blank one: as unbounded as one endless line
                    data.setLength(0);
                    events.fail(new IllegalStateException("An upstream event is longer than " + maxBytes + " bytes"));
                    return;
                }
                if (data.length() > 0) {
                    data.append('\n');
                }
                data.append(text, text.length() > 5 && text.charAt(5) == ' ' ? 6 : 5, text.length());
            }
            // comments (":"), "event:", "id:" and "retry:" lines carry nothing the gateway needs
        });
        lines.endHandler(v -> {
            if (events.failed) {
                return;
            }
            if (data.length() > 0) {
                String event = data.toString();
                data.setLength(0);
                onData.accept(event);
            }
            if (events.endHandler != null) {
                events.endHandler.handle(null);
            }
        });
        return events;
    }

    /** The line parser as the adapters see it, with an exception handler this class can also call. */
    private static final class Events implements ReadStream<Buffer> {

        private final RecordParser lines;
        private Handler<Throwable> exceptionHandler;
        private Handler<Void> endHandler;
        private boolean failed;

        Events(RecordParser lines) {
            this.lines = lines;
        }

        void fail(Throwable failure) {
            failed = true;
            if (exceptionHandler != null) {
                exceptionHandler.handle(failure);
            }
        }

        @Override
        public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
            this.exceptionHandler = handler;
            lines.exceptionHandler(handler);
            return this;
        }

        @Override
        public ReadStream<Buffer> handler(Handler<Buffer> handler) {
            throw new UnsupportedOperationException("events are delivered to the onData consumer");
        }

        @Override
        public ReadStream<Buffer> pause() {
            lines.pause();
            return this;
        }

        @Override
        public ReadStream<Buffer> resume() {
            lines.resume();
            return this;
        }

        @Override
        public ReadStream<Buffer> fetch(long amount) {
            lines.fetch(amount);
            return this;
        }

        @Override
        public ReadStream<Buffer> endHandler(Handler<Void> handler) {
            this.endHandler = handler;
            return this;
        }
    }
}
