package dev.caravan.stream;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.DebugTrace;
import dev.caravan.exchange.GatewayTime;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.ReplyFormat;
import dev.caravan.openai.TokenEstimate;
import dev.caravan.openai.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.Exchange;

/**
 * Writes a streamed reply to the client as the upstream produces it, one write per chunk, and keeps the
 * streaming contract (DESIGN §5): the first chunk carries the role, a finish_reason always comes, the usage
 * chunk comes when the client asked for it, then [DONE]; a failure ends with an error event and no [DONE].
 * It also assembles the whole reply for the post-hooks.
 */
public final class StreamRelay implements ChunkSink {

    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT_END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LINE_END = "\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] COMMENT = (": " + DebugTrace.FIELD + " ").getBytes(StandardCharsets.US_ASCII);
    private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");
    private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream; charset=utf-8");
    private static final CharSequence NDJSON = HttpHeaders.createOptimized("application/x-ndjson");
    private static final CharSequence NO_CACHE = HttpHeaders.createOptimized("no-cache");

    private final HttpServerResponse response;
    private final ReplyFormat format;
    private final boolean includeUsage;
    private final String clientModel;
    private final Exchange exchange;
    private final long sentNanos;
    private final long promptTokenEstimate;
    private final CompletionAssembler assembler = new CompletionAssembler();
    /** The stream-hooks route for this stream, or null while it is empty (DESIGN: an empty hook costs nothing). */
    private final StreamHooks.Stream hooks;
    private boolean opened;
    private boolean roleSent;
    private boolean ended;
    private ObjectNode lastChunk;

    public StreamRelay(HttpServerResponse response, ReplyFormat format, boolean includeUsage, String clientModel,
                       Exchange exchange, long sentNanos, long promptTokenEstimate) {
        this.response = response;
        this.format = format;
        this.includeUsage = includeUsage;
        this.clientModel = clientModel;
        this.exchange = exchange;
        this.sentNanos = sentNanos;
        this.promptTokenEstimate = promptTokenEstimate;
        this.hooks = StreamHooks.of(exchange);
    }

    @Override
    public void open() {
        if (opened) {
            return;
        }
        opened = true;
        GatewayTime.addUpstreamNanos(exchange, System.nanoTime() - sentNanos);
        if (response.closed() || response.headWritten()) {
            return;
        }
        response.setStatusCode(200);
        response.setChunked(true);
        response.putHeader(HttpHeaders.CONTENT_TYPE, format == ReplyFormat.SSE ? EVENT_STREAM : NDJSON);
        response.putHeader(HttpHeaders.CACHE_CONTROL, NO_CACHE);
        response.putHeader("x-accel-buffering", "no"); // tells nginx in front of us not to buffer the stream
        ReplyHeaders.writeTo(response, exchange);
        DebugTrace trace = DebugTrace.of(exchange);
        if (trace != null) {
            response.putHeader(DebugTrace.HEADER, trace.summary(exchange)); // so far: the stream's own call is running
        }
        response.write(Buffer.buffer()); // sends the head now: clients see the stream open before the first token
    }

    public boolean opened() {
        return opened;
    }

    @Override
    public void accept(ObjectNode chunk) {
        open();
        JsonNode choices = chunk.get("choices");
        boolean usageOnly = (choices == null || choices.isEmpty()) && chunk.hasNonNull("usage");
        if (usageOnly || hooks == null) {
            assembler.add(chunk);
        }
        if (usageOnly) {
            return; // written by finish(), after the last content chunk, and only when asked for
        }
        JsonNode reportedUsage = chunk.get("usage");
        chunk.put("model", clientModel);
        if (includeUsage) {
            if (!chunk.has("usage")) {
                chunk.putNull("usage");
            }
        } else {
            chunk.remove("usage");
        }
        if (!roleSent && choices != null && !choices.isEmpty()) {
            JsonNode delta = choices.get(0).get("delta");
            if (delta instanceof ObjectNode d && !d.has("role")) {
                d.put("role", "assistant");
            }
            roleSent = true;
        }
        lastChunk = chunk;
        if (hooks != null) {
            ObjectNode hooked = hooks.pass(chunk);
            if (hooked == null) {
                return; // a hook dropped it
            }
            assembler.add(hooked); // post-hooks see what the client received
            assembler.reportUsage(reportedUsage);
            chunk = hooked;
        }
        write(chunk);
    }

    @Override
    public boolean writable() {
        return !response.writeQueueFull();
    }

    @Override
    public void whenWritable(Runnable resume) {
        response.drainHandler(v -> resume.run());
    }

    /** The upstream ended cleanly: close the stream as the contract says. */
    public void finish() {
        if (ended) {
            return;
        }
        open();
        if (assembler.finishReason() == null && lastChunk != null) {
            // an upstream that never said why it stopped: say "stop" for it (through the hooks, like any chunk)
            ObjectNode closing;
            try {
                closing = hooks == null ? closingChunk() : hooks.pass(closingChunk());
            } catch (OpenAiError e) {
                fail(e); // a failing hook ends the stream with its error, as on any other chunk
                return;
            }
            if (closing != null) {
                assembler.add(closing);
                write(closing);
            }
        }
        Usage usage = usage();
        if (includeUsage && lastChunk != null) {
            ObjectNode usageChunk = lastChunk.deepCopy();
            usageChunk.putArray("choices");
            usageChunk.set("usage", usage.toJson());
            write(usageChunk);
        }
        ended = true;
        if (response.closed()) {
            return;
        }
        if (format == ReplyFormat.SSE) {
            writeDebugTrace();
            response.end(DONE);
        } else {
            response.end();
        }
    }

    /** The stream broke after it started: an error event, no [DONE]. */
    public void fail(OpenAiError error) {
        if (ended) {
            return;
        }
        ended = true;
        open();
        writeDebugTrace();
        StreamErrors.writeAndEnd(response, error);
    }

    /**
     * The request's debug trace (x-caravan-debug from the admin) as an SSE comment, {@code : caravan_debug {...}},
     * just before [DONE] or the error event: SSE clients and OpenAI's SDKs skip comment lines. Not in NDJSON, where
     * every line is a chunk: there the x-caravan-debug header of the stream's head says it.
     */
    private void writeDebugTrace() {
        DebugTrace trace = format == ReplyFormat.SSE ? DebugTrace.of(exchange) : null;
        if (trace != null && !response.closed()) {
            response.write(Buffer.buffer(COMMENT.length + 256).appendBytes(COMMENT)
                    .appendBytes(Json.bytes(trace.toJson(exchange))).appendBytes(EVENT_END));
        }
    }

    /** Usage as the upstream reported it, or counted here when it reported none. */
    public Usage usage() {
        Usage reported = assembler.usage();
        if (reported != null) {
            return reported;
        }
        return new Usage(promptTokenEstimate, TokenEstimate.of(assembler.content()), true);
    }

    public ObjectNode completion() {
        ObjectNode completion = assembler.toCompletion();
        completion.put("model", clientModel);
        completion.set("usage", usage().toJson());
        return completion;
    }

    private ObjectNode closingChunk() {
        ObjectNode chunk = lastChunk.deepCopy();
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("index", 0);
        if ("text_completion".equals(chunk.path("object").asText())) {
            choice.put("text", "");
        } else {
            choice.putObject("delta");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", "stop");
        return chunk;
    }

    private void write(ObjectNode chunk) {
        if (response.closed()) {
            return;
        }
        byte[] json = Json.bytes(chunk);
        Buffer frame;
        if (format == ReplyFormat.SSE) {
            frame = Buffer.buffer(json.length + 8).appendBytes(DATA).appendBytes(json).appendBytes(EVENT_END);
        } else {
            frame = Buffer.buffer(json.length + 1).appendBytes(json).appendBytes(LINE_END);
        }
        response.write(frame);
    }
}
