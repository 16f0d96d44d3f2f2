package dev.caravan.backend.tgi;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.StreamDecoder;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.Chunks;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Usage;

/**
 * One stream's translation: TGI token events → chat.completion.chunk or text_completion chunks with one id
 * and created, then a finish chunk and a usage-only chunk once the final event (the one with details) came.
 * Reading, back-pressure and failures are the stream pump's.
 */
public final class TokenStream implements StreamDecoder<String> {
    private final UpstreamCall call;
    private final Prompt prompt;
    private final ChunkSink sink;
    private final StopTrimmer trimmer;
    private final String id;
    private final long created = Chunks.nowSeconds();
    private final String model;
    private final StringBuilder text = new StringBuilder();
    private long tokens;
    private boolean finished;
    private boolean stoppedEarly;

    public TokenStream(UpstreamCall call, Prompt prompt, ChunkSink sink) {
        this.call = call;
        this.prompt = prompt;
        this.sink = sink;
        this.trimmer = new StopTrimmer(prompt.stops());
        this.id = Chunks.newId(prompt.chat() ? "chatcmpl-" : "cmpl-");
        this.model = call.route().model();
    }

    @Override
    public void start() {
        if (prompt.chat()) {
            ObjectNode first = Chunks.chunk(id, created, model);
            Chunks.delta(first).put("role", "assistant").put("content", "");
            sink.accept(first);
        }
    }

    /** Whether the reply is complete: TGI sends no [DONE], so only the final event or a stop marks a clean end. */
    @Override
    public boolean finished() {
        return finished;
    }

    /** Whether a stop TGI was not told about ended the reply before TGI did: the rest is not wanted. */
    @Override
    public boolean stoppedEarly() {
        return stoppedEarly;
    }

    @Override
    public void onEvent(String data) {
        JsonNode event = parse(data);
        if (event.hasNonNull("error")) {
            throw OpenAiError.upstream("The upstream failed mid-stream: " + event.get("error").asText(), null);
        }
        if (finished) {
            return;
        }
        JsonNode token = event.path("token");
        if (token.isObject()) {
            tokens++;
            if (!token.path("special").asBoolean(false)) { // </s>, <|im_end|>: not text for the client
                emit(trimmer.accept(token.path("text").asText("")));
            }
        }
        JsonNode details = event.path("details");
        boolean last = details.isObject() || event.hasNonNull("generated_text");
        if (last || trimmer.stopped()) {
            if (!trimmer.stopped()) {
                emit(trimmer.flush());
            }
            finished = true;
            stoppedEarly = !last;
            JsonNode inputLength = details.path("input_length");
            JsonNode generated = details.path("generated_tokens");
            end(last ? GenerateReply.finishReason(details) : "stop", GenerateReply.usage(call,
                    inputLength.canConvertToLong() ? inputLength.asLong() : null,
                    generated.canConvertToLong() ? generated : Json.MAPPER.getNodeFactory().numberNode(tokens),
                    text));
        }
    }

    private void emit(String piece) {
        if (piece.isEmpty()) {
            return;
        }
        text.append(piece);
        if (prompt.chat()) {
            sink.accept(Chunks.contentChunk(id, created, model, piece));
        } else {
            sink.accept(TextCompletions.chunk(id, created, model, piece, null));
        }
    }

    private void end(String finishReason, Usage usage) {
        if (prompt.chat()) {
            sink.accept(Chunks.finishChunk(id, created, model, finishReason));
            sink.accept(Chunks.usageChunk(id, created, model, usage));
            return;
        }
        sink.accept(TextCompletions.chunk(id, created, model, "", finishReason));
        sink.accept(TextCompletions.usageChunk(id, created, model, usage));
    }

    private static JsonNode parse(String data) {
        try {
            JsonNode json = Json.MAPPER.readTree(data);
            if (json != null && json.isObject()) {
                return json;
            }
        } catch (IOException e) {
            throw OpenAiError.upstream("The upstream sent an event that is not JSON", e);
        }
        throw OpenAiError.upstream("The upstream sent an event that is not a JSON object", null);
    }
}
