package dev.caravan.backend.ollama;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.StreamDecoder;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.Chunks;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.buffer.Buffer;

/**
 * One stream's translation, Ollama NDJSON lines → OpenAI chunks: one id and created for all chunks, tool call
 * numbering, the end seen. Reading, back-pressure and failures are the stream pump's.
 */
public final class ChatStream implements StreamDecoder<Buffer> {
    private final UpstreamCall call;
    private final ChunkSink sink;
    private final String id = Chunks.newId("chatcmpl-");
    private final long created = Chunks.nowSeconds();
    private final String model;
    private final StringBuilder content = new StringBuilder(); // only for a count if Ollama gives none
    private int toolCalls;
    private boolean finished;

    public ChatStream(UpstreamCall call, ChunkSink sink) {
        this.call = call;
        this.sink = sink;
        this.model = call.route().model();
    }

    /** The role chunk, which goes out before any line is read. */
    @Override
    public void start() {
        ObjectNode first = Chunks.chunk(id, created, model);
        Chunks.delta(first).put("role", "assistant").put("content", "");
        sink.accept(first);
    }

    /** Whether the done:true line came: without it, the end of the stream is a cut, not a finish. */
    @Override
    public boolean finished() {
        return finished;
    }

    @Override
    public void onEvent(Buffer line) {
        JsonNode json = parse(line);
        if (json.hasNonNull("error")) {
            throw OpenAiError.upstream("The upstream failed mid-stream: " + ChatReply.errorText(json.get("error")),
                    null);
        }
        if (finished) {
            return; // nothing after done:true counts
        }
        JsonNode message = json.path("message");
        String text = message.path("content").asText("");
        if (!text.isEmpty()) {
            content.append(text);
            sink.accept(Chunks.contentChunk(id, created, model, text));
        }
        JsonNode calls = message.get("tool_calls");
        if (calls != null && calls.isArray() && !calls.isEmpty()) {
            ObjectNode chunk = Chunks.chunk(id, created, model);
            Chunks.delta(chunk).set("tool_calls", ToolCalls.toOpenAi(calls, toolCalls));
            toolCalls += calls.size();
            sink.accept(chunk);
        }
        if (json.path("done").asBoolean(false)) {
            finished = true;
            sink.accept(Chunks.finishChunk(id, created, model, ChatReply.finishReason(json, toolCalls > 0)));
            sink.accept(Chunks.usageChunk(id, created, model, ChatReply.usage(call, json, content)));
        }
    }

    private static JsonNode parse(Buffer line) {
        try {
            JsonNode json = Json.MAPPER.readTree(line.getBytes());
            if (json != null && json.isObject()) {
                return json;
            }
        } catch (IOException e) {
            throw OpenAiError.upstream("The upstream sent a line that is not JSON", e);
        }
        throw OpenAiError.upstream("The upstream sent a line that is not a JSON object", null);
    }
}
