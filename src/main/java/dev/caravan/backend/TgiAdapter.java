package dev.caravan.backend;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.openai.Chunks;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.PromptTokens;
import dev.caravan.openai.Usage;
import dev.caravan.stream.ChunkSink;
import dev.caravan.stream.TokenEstimate;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.streams.ReadStream;

/**
 * Hugging Face text-generation-inference, native API (/generate, /generate_stream, /info): it takes a prompt,
 * not messages, so chat goes through {@link ChatTemplate}, and /v1/completions is served as it is (the prompt
 * is the input). TGI always reports generated tokens; prompt tokens come from its x-prompt-tokens header or
 * its stream details' input_length, and are estimated only when neither is there.
 * <p>
 * Stop sequences are applied here as well as upstream: TGI keeps the text of the token that completed a stop
 * in its output (the gateway cuts it, holding back a streamed piece that might start one), and it takes at most
 * four stops (the gateway sends the first four and watches for the rest itself, ending the stream and freeing
 * the GPU when one of those appears).
 */
public final class TgiAdapter implements BackendAdapter {

    /** max_new_tokens when the client sets no max_tokens (TGI's own default, 100, cuts most answers short). */
    static final int DEFAULT_MAX_NEW_TOKENS = 512;
    /** TGI's default --max-stop-sequences; more makes it answer 422. */
    static final int MAX_STOP_SEQUENCES = 4;
    private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream");
    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
    private static final OpenAiError CUT = OpenAiError.upstream("The upstream stream ended before it finished", null);

    private final Upstreams upstreams;

    public TgiAdapter(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public boolean servesLegacyCompletions() {
        return true;
    }

    @Override
    public Future<ObjectNode> call(UpstreamCall call) {
        Prompt prompt;
        try {
            prompt = prompt(call);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        return UpstreamHttp.post(client(call), call, "/generate", body(call, prompt), JSON)
                .compose(response -> response.body().map(body -> reply(call, prompt, response, body)))
                .recover(e -> Future.failedFuture(failure(call, e)));
    }

    @Override
    public Future<Void> stream(UpstreamCall call, ChunkSink sink) {
        Prompt prompt;
        try {
            prompt = prompt(call);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        Promise<Void> done = Promise.promise();
        UpstreamHttp.post(client(call), call, "/generate_stream", body(call, prompt), EVENT_STREAM)
                .onFailure(e -> done.tryFail(failure(call, e)))
                .onSuccess(response -> relay(call, prompt, sink, response, done));
        return done.future();
    }

    @Override
    public Future<List<String>> listModels(String backendName, BackendConfig backend) {
        // a TGI server serves exactly one model
        return UpstreamHttp.getJson(upstreams.client(backendName, backend), backend.url(), "/info", backend.apiKey())
                .map(info -> info.hasNonNull("model_id") ? List.of(info.get("model_id").asText()) : List.<String>of());
    }

    private HttpClient client(UpstreamCall call) {
        return upstreams.client(call.route().backendName(), call.backend());
    }

    // -- request --------------------------------------------------------------------------------------------------

    /** What TGI generates from, and the stops that end it; {@code chat} picks the reply's shape. */
    private record Prompt(String inputs, List<String> stops, boolean chat) {
    }

    private static Prompt prompt(UpstreamCall call) {
        ObjectNode request = call.request();
        List<String> stops = new ArrayList<>();
        return switch (call.operation()) {
            case EMBEDDINGS -> throw new OpenAiError(400, "invalid_request_error", "model_not_supported", "model",
                    "TGI backends do not serve embeddings");
            case CHAT -> {
                stops.add(ChatTemplate.STOP);
                addStops(request.get("stop"), stops);
                yield new Prompt(ChatTemplate.render(request.path("messages")), stops, true);
            }
            case COMPLETION -> {
                addStops(request.get("stop"), stops);
                yield new Prompt(legacyPrompt(request.get("prompt")), stops, false);
            }
        };
    }

    /** One text prompt; several prompts (a batch) or token ids have no TGI /generate equivalent. */
    private static String legacyPrompt(JsonNode prompt) {
        if (prompt != null && prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            return prompt.get(0).asText();
        }
        if (prompt == null || !prompt.isTextual()) {
            throw OpenAiError.invalidRequest("prompt", "TGI backends take one text prompt, not a batch or token ids");
        }
        return PromptTokens.text(prompt);
    }

    private static void addStops(JsonNode stop, List<String> stops) {
        if (stop != null && stop.isTextual() && !stop.asText().isEmpty()) {
            stops.add(stop.asText());
        } else if (stop != null && stop.isArray()) {
            for (JsonNode s : stop) {
                if (s.isTextual() && !s.asText().isEmpty()) {
                    stops.add(s.asText());
                }
            }
        }
    }

    private static ObjectNode body(UpstreamCall call, Prompt prompt) {
        ObjectNode request = call.request();
        ObjectNode body = Json.object();
        body.put("inputs", prompt.inputs());
        ObjectNode parameters = body.putObject("parameters");
        JsonNode max = request.hasNonNull("max_completion_tokens") ? request.get("max_completion_tokens")
                : request.get("max_tokens");
        parameters.put("max_new_tokens", max != null && max.isNumber() ? max.asInt() : DEFAULT_MAX_NEW_TOKENS);
        // TGI refuses temperature 0 and top_p outside (0,1): both mean "no sampling change", so they are left out
        JsonNode temperature = request.get("temperature");
        if (temperature != null && temperature.isNumber() && temperature.asDouble() > 0) {
            parameters.set("temperature", temperature);
        }
        JsonNode topP = request.get("top_p");
        if (topP != null && topP.isNumber() && topP.asDouble() > 0 && topP.asDouble() < 1) {
            parameters.set("top_p", topP);
        }
        JsonNode seed = request.get("seed");
        if (seed != null && seed.canConvertToLong() && seed.asLong() >= 0) {
            parameters.put("seed", seed.asLong());
        }
        JsonNode frequencyPenalty = request.get("frequency_penalty");
        if (frequencyPenalty != null && frequencyPenalty.isNumber() && frequencyPenalty.asDouble() != 0) {
            parameters.set("frequency_penalty", frequencyPenalty);
        }
        if (!prompt.stops().isEmpty()) {
            var stop = parameters.putArray("stop");
            prompt.stops().stream().limit(MAX_STOP_SEQUENCES).forEach(stop::add);
        }
        parameters.put("details", true); // finish_reason and generated_tokens
        parameters.put("decoder_input_details", false);
        parameters.put("return_full_text", false);
        if (prompt.chat()) {
            grammar(request.path("response_format"), parameters);
        }
        return body;
    }

    /** response_format as TGI's grammar: json_object is any object, json_schema its schema. */
    private static void grammar(JsonNode responseFormat, ObjectNode parameters) {
        switch (responseFormat.path("type").asText("")) {
            case "json_object" -> parameters.putObject("grammar").put("type", "json")
                    .putObject("value").put("type", "object");
            case "json_schema" -> {
                JsonNode schema = responseFormat.path("json_schema").get("schema");
                if (schema == null || !schema.isObject()) {
                    throw OpenAiError.invalidRequest("response_format.json_schema.schema",
                            "'response_format.json_schema.schema' must be a JSON schema object");
                }
                parameters.putObject("grammar").put("type", "json").set("value", schema);
            }
            default -> {
                // free text
            }
        }
    }

    // -- non-streamed reply ---------------------------------------------------------------------------------------

    private static ObjectNode reply(UpstreamCall call, Prompt prompt, HttpClientResponse response, Buffer body) {
        JsonNode json = Json.parseUpstream(body);
        if (json.hasNonNull("error")) {
            throw OpenAiError.upstream("The upstream failed: " + json.get("error").asText(), null);
        }
        StopTrimmer trimmer = new StopTrimmer(prompt.stops());
        String text = trimmer.accept(json.path("generated_text").asText(""));
        text += trimmer.flush();
        JsonNode details = json.path("details");
        String promptHeader = response.getHeader("x-prompt-tokens"); // TGI's router sets it on /generate
        Long promptTokens = promptHeader == null ? null : parseLong(promptHeader);
        Usage usage = usage(call, promptTokens, details.path("generated_tokens"), text);
        String finish = finishReason(details);
        String model = call.route().model();
        if (prompt.chat()) {
            return Chunks.completion(Chunks.newId("chatcmpl-"), Chunks.nowSeconds(), model, text, null, finish, usage);
        }
        ObjectNode completion = Json.object();
        completion.put("id", Chunks.newId("cmpl-"));
        completion.put("object", "text_completion");
        completion.put("created", Chunks.nowSeconds());
        completion.put("model", model);
        ObjectNode choice = completion.putArray("choices").addObject();
        choice.put("text", text);
        choice.put("index", 0);
        choice.putNull("logprobs");
        choice.put("finish_reason", finish);
        completion.set("usage", usage.toJson());
        return completion;
    }

    /** TGI says length, eos_token or stop_sequence; OpenAI knows length and stop. */
    private static String finishReason(JsonNode details) {
        return "length".equals(details.path("finish_reason").asText()) ? "length" : "stop";
    }

    private static Usage usage(UpstreamCall call, Long promptTokens, JsonNode generatedTokens, CharSequence text) {
        boolean estimated = promptTokens == null || !generatedTokens.canConvertToLong();
        return new Usage(promptTokens != null ? promptTokens : PromptTokens.estimate(call.request()),
                generatedTokens.canConvertToLong() ? generatedTokens.asLong() : TokenEstimate.of(text), estimated);
    }

    private static Long parseLong(String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    // -- stream ---------------------------------------------------------------------------------------------------

    private static void relay(UpstreamCall call, Prompt prompt, ChunkSink sink, HttpClientResponse response,
                              Promise<Void> done) {
        try {
            sink.open();
            TokenStream state = new TokenStream(call, prompt, sink);
            state.start();
            @SuppressWarnings("unchecked")
            ReadStream<Buffer>[] events = new ReadStream[1];
            events[0] = SseEvents.parse(response, data -> {
                if (done.future().isComplete()) {
                    return;
                }
                try {
                    state.onEvent(data);
                } catch (RuntimeException e) {
                    abort(call, response, done, e);
                    return;
                }
                if (state.stoppedEarly) {
                    // a stop TGI was not told about appeared: the reply is complete, the rest is not wanted
                    done.tryComplete();
                    response.request().reset(0);
                    return;
                }
                if (!sink.writable()) {
                    events[0].pause(); // the client is slow: stop reading, TCP tells TGI to wait
                    sink.whenWritable(events[0]::resume);
                }
            });
            events[0].exceptionHandler(e -> abort(call, response, done, e)); // reset: a broken read must free the slot too
            events[0].endHandler(v -> {
                if (state.finished) {
                    done.tryComplete();
                } else {
                    done.tryFail(CUT); // TGI sends no [DONE]: only the final event marks a clean end
                }
            });
        } catch (RuntimeException e) {
            abort(call, response, done, e);
        }
    }

    private static void abort(UpstreamCall call, HttpClientResponse response, Promise<Void> done, Throwable e) {
        OpenAiError error = failure(call, e);
        done.tryFail(error);
        response.request().reset(0, error); // a reset, unlike a close, does not drain the rest
    }

    /** Why a call failed: the cancellation's own reason (deadline: 504) beats the bare reset it caused. */
    private static OpenAiError failure(UpstreamCall call, Throwable e) {
        Throwable reason = call.cancellation().reason();
        return UpstreamErrors.ofFailure(reason != null ? reason : e);
    }

    /**
     * One stream's translation: TGI token events → chat.completion.chunk or text_completion chunks with one id
     * and created, then a finish chunk and a usage-only chunk once the final event (the one with details) came.
     */
    private static final class TokenStream {
        private final UpstreamCall call;
        private final Prompt prompt;
        private final ChunkSink sink;
        private final StopTrimmer trimmer;
        private final String id;
        private final long created = Chunks.nowSeconds();
        private final String model;
        private final StringBuilder text = new StringBuilder();
        private long tokens;
        boolean finished;
        boolean stoppedEarly;

        TokenStream(UpstreamCall call, Prompt prompt, ChunkSink sink) {
            this.call = call;
            this.prompt = prompt;
            this.sink = sink;
            this.trimmer = new StopTrimmer(prompt.stops());
            this.id = Chunks.newId(prompt.chat() ? "chatcmpl-" : "cmpl-");
            this.model = call.route().model();
        }

        void start() {
            if (prompt.chat()) {
                ObjectNode first = Chunks.chunk(id, created, model);
                Chunks.delta(first).put("role", "assistant").put("content", "");
                sink.accept(first);
            }
        }

        void onEvent(String data) {
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
                end(last ? finishReason(details) : "stop", usage(call,
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
                sink.accept(textChunk(piece, null));
            }
        }

        private void end(String finishReason, Usage usage) {
            if (prompt.chat()) {
                sink.accept(Chunks.finishChunk(id, created, model, finishReason));
                sink.accept(Chunks.usageChunk(id, created, model, usage));
                return;
            }
            sink.accept(textChunk("", finishReason));
            ObjectNode usageChunk = Json.object();
            usageChunk.put("id", id);
            usageChunk.put("object", "text_completion");
            usageChunk.put("created", created);
            usageChunk.put("model", model);
            usageChunk.putArray("choices");
            usageChunk.set("usage", usage.toJson());
            sink.accept(usageChunk);
        }

        private ObjectNode textChunk(String piece, String finishReason) {
            ObjectNode chunk = Json.object();
            chunk.put("id", id);
            chunk.put("object", "text_completion");
            chunk.put("created", created);
            chunk.put("model", model);
            ObjectNode choice = chunk.putArray("choices").addObject();
            choice.put("text", piece);
            choice.put("index", 0);
            choice.putNull("logprobs");
            choice.put("finish_reason", finishReason);
            return chunk;
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

    /**
     * Cuts generated text at the first stop sequence, piece by piece as it streams: text that could be the start
     * of a stop is held back until the next piece shows whether it is one; what follows a stop is dropped.
     */
    static final class StopTrimmer {
        private final List<String> stops;
        private final StringBuilder pending = new StringBuilder();
        private boolean stopped;

        StopTrimmer(List<String> stops) {
            this.stops = stops;
        }

        /** The part of {@code piece} (with what was held back) that is safe to pass on now. */
        String accept(String piece) {
            if (stopped) {
                return "";
            }
            if (stops.isEmpty()) {
                return piece;
            }
            pending.append(piece);
            int cut = -1;
            for (String stop : stops) {
                int at = pending.indexOf(stop);
                if (at >= 0 && (cut < 0 || at < cut)) {
                    cut = at;
                }
            }
            if (cut >= 0) {
                stopped = true;
                String out = pending.substring(0, cut);
                pending.setLength(0);
                return out;
            }
            int keep = heldBack();
            String out = pending.substring(0, pending.length() - keep);
            pending.delete(0, pending.length() - keep);
            return out;
        }

        /** The text still held back, once the upstream has finished without completing a stop. */
        String flush() {
            String out = pending.toString();
            pending.setLength(0);
            return out;
        }

        boolean stopped() {
            return stopped;
        }

        /** Length of the longest end of the pending text that some stop begins with. */
        private int heldBack() {
            int longest = 0;
            for (String stop : stops) {
                longest = Math.max(longest, stop.length());
            }
            for (int k = Math.min(pending.length(), longest - 1); k > 0; k--) {
                String tail = pending.substring(pending.length() - k);
                for (String stop : stops) {
                    if (stop.length() > k && stop.startsWith(tail)) {
                        return k;
                    }
                }
            }
            return 0;
        }
    }
}
