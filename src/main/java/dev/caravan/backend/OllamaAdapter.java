package dev.caravan.backend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.openai.Chunks;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
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
 * Ollama's native API (/api/chat, /api/embed, /api/tags), not its OpenAI layer: the native API is the one every
 * Ollama version has, and it reports exact token counts (prompt_eval_count, eval_count) on streams too.
 * The client's OpenAI request is translated (messages, sampling options, tools, response_format) and the reply
 * is translated back, tool calls included: Ollama carries arguments as a JSON object, OpenAI as a JSON string.
 * /v1/completions is not served natively: the gateway turns it into chat before it gets here.
 */
public final class OllamaAdapter implements BackendAdapter {

    private static final CharSequence NDJSON = HttpHeaders.createOptimized("application/x-ndjson");
    private static final OpenAiError CUT = OpenAiError.upstream("The upstream stream ended before it finished", null);

    private final Upstreams upstreams;

    public OllamaAdapter(Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public Future<ObjectNode> call(UpstreamCall call) {
        try {
            if (call.operation() == Operation.EMBEDDINGS) {
                boolean base64 = "base64".equals(call.request().path("encoding_format").asText());
                return UpstreamHttp.postForJson(client(call), call, "/api/embed", embedBody(call))
                        .recover(e -> Future.failedFuture(failure(call, e)))
                        .map(reply -> embeddings(call, reply, base64));
            }
            return UpstreamHttp.postForJson(client(call), call, "/api/chat", chatBody(call, false))
                    .recover(e -> Future.failedFuture(failure(call, e)))
                    .map(reply -> completion(call, reply));
        } catch (RuntimeException e) {
            return Future.failedFuture(e); // a request Ollama cannot take (400): no upstream call made
        }
    }

    @Override
    public Future<Void> stream(UpstreamCall call, ChunkSink sink) {
        ObjectNode body;
        try {
            body = chatBody(call, true);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        Promise<Void> done = Promise.promise();
        UpstreamHttp.post(client(call), call, "/api/chat", body, NDJSON)
                .onFailure(e -> done.tryFail(failure(call, e)))
                .onSuccess(response -> relay(call, sink, response, done));
        return done.future();
    }

    @Override
    public Future<List<String>> listModels(String backendName, BackendConfig backend) {
        return UpstreamHttp.getJson(upstreams.client(backendName, backend), backend.url(), "/api/tags",
                backend.apiKey()).map(json -> {
                    List<String> names = new ArrayList<>();
                    for (JsonNode model : json.path("models")) {
                        if (model.hasNonNull("name")) {
                            names.add(model.get("name").asText());
                        }
                    }
                    return names;
                });
    }

    private HttpClient client(UpstreamCall call) {
        return upstreams.client(call.route().backendName(), call.backend());
    }

    // -- chat request ---------------------------------------------------------------------------------------------

    /** The /api/chat body; throws a 400 OpenAiError for what Ollama cannot take (remote image URLs, bad arguments). */
    private static ObjectNode chatBody(UpstreamCall call, boolean stream) {
        ObjectNode request = call.request();
        ObjectNode body = Json.object();
        body.put("model", call.upstreamModel());
        body.set("messages", messages(request.path("messages")));
        body.put("stream", stream);
        ObjectNode options = options(request);
        if (!options.isEmpty()) {
            body.set("options", options);
        }
        JsonNode tools = request.get("tools");
        // Ollama has no tool_choice; "none" is honoured by not offering the tools at all
        if (tools != null && tools.isArray() && !tools.isEmpty()
                && !"none".equals(request.path("tool_choice").asText(null))) {
            body.set("tools", tools); // Ollama reads OpenAI's {"type":"function","function":{...}} as it is
        }
        JsonNode responseFormat = request.path("response_format");
        switch (responseFormat.path("type").asText("")) {
            case "json_object" -> body.put("format", "json");
            case "json_schema" -> {
                JsonNode schema = responseFormat.path("json_schema").get("schema");
                if (schema == null || !schema.isObject()) {
                    throw OpenAiError.invalidRequest("response_format.json_schema.schema",
                            "'response_format.json_schema.schema' must be a JSON schema object");
                }
                body.set("format", schema);
            }
            default -> {
                // "text" or absent: free text
            }
        }
        return body;
    }

    /** OpenAI sampling fields under Ollama's names; max_completion_tokens wins over the older max_tokens. */
    private static ObjectNode options(ObjectNode request) {
        ObjectNode options = Json.object();
        JsonNode max = request.hasNonNull("max_completion_tokens") ? request.get("max_completion_tokens")
                : request.get("max_tokens");
        if (max != null && max.isNumber()) {
            options.put("num_predict", max.asLong());
        }
        for (String field : List.of("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty")) {
            JsonNode value = request.get(field);
            if (value != null && value.isNumber()) {
                options.set(field, value);
            }
        }
        JsonNode stop = request.get("stop");
        if (stop != null && stop.isTextual()) {
            options.putArray("stop").add(stop.asText());
        } else if (stop != null && stop.isArray() && !stop.isEmpty()) {
            options.set("stop", stop);
        }
        return options;
    }

    private static ArrayNode messages(JsonNode messages) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        Map<String, String> toolNames = new HashMap<>(); // tool_call_id → function name, for tool results
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String where = "messages[" + i + "]";
            String role = message.path("role").asText();
            ObjectNode converted = out.addObject();
            converted.put("role", switch (role) {
                case "developer" -> "system"; // Ollama's templates know system, user, assistant, tool
                case "function" -> "tool";
                default -> role;
            });
            content(message.get("content"), converted, where);
            JsonNode calls = message.get("tool_calls");
            if (calls != null && calls.isArray() && !calls.isEmpty()) {
                converted.set("tool_calls", ollamaToolCalls(calls, toolNames, where));
            }
            // newer Ollama versions tell tool results apart by tool_name; older ones ignore the field
            String toolName = "tool".equals(role) ? toolNames.get(message.path("tool_call_id").asText())
                    : "function".equals(role) ? message.path("name").asText(null) : null;
            if (toolName != null) {
                converted.put("tool_name", toolName);
            }
        }
        return out;
    }

    /** Text as "content" (parts joined by newlines); images, which Ollama takes as bare base64, as "images". */
    private static void content(JsonNode content, ObjectNode converted, String where) {
        if (content == null || content.isNull()) {
            converted.put("content", "");
            return;
        }
        if (content.isTextual()) {
            converted.put("content", content.asText());
            return;
        }
        StringBuilder text = new StringBuilder();
        ArrayNode images = null;
        for (JsonNode part : content) {
            String type = part.isTextual() ? "text" : part.path("type").asText();
            if ("text".equals(type)) {
                if (!text.isEmpty()) {
                    text.append('\n');
                }
                text.append(part.isTextual() ? part.asText() : part.path("text").asText());
            } else if ("image_url".equals(type)) {
                JsonNode image = part.get("image_url");
                String url = image != null && image.isTextual() ? image.asText() : image == null ? "" : image.path("url").asText();
                if (images == null) {
                    images = converted.putArray("images");
                }
                images.add(dataUrlBase64(url, where));
            } else {
                throw OpenAiError.invalidRequest(where + ".content",
                        "Ollama backends take text and image_url content parts, not '" + type + "'");
            }
        }
        converted.put("content", text.toString());
    }

    private static String dataUrlBase64(String url, String where) {
        int comma = url.indexOf(',');
        if (!url.startsWith("data:") || comma < 0 || !url.substring(0, comma).endsWith(";base64")) {
            // Ollama reads image bytes only; fetching remote URLs for it would make the gateway a web client
            throw OpenAiError.invalidRequest(where + ".content",
                    "Ollama backends take images as base64 data: URLs only");
        }
        return url.substring(comma + 1);
    }

    private static ArrayNode ollamaToolCalls(JsonNode calls, Map<String, String> toolNames, String where) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (int j = 0; j < calls.size(); j++) {
            JsonNode call = calls.get(j);
            JsonNode function = call.path("function");
            String name = function.path("name").asText();
            if (call.hasNonNull("id")) {
                toolNames.put(call.get("id").asText(), name);
            }
            ObjectNode converted = out.addObject().putObject("function");
            converted.put("name", name);
            converted.set("arguments", argumentsObject(function.get("arguments"),
                    where + ".tool_calls[" + j + "].function.arguments"));
        }
        return out;
    }

    /** OpenAI sends arguments as a JSON string; Ollama wants the object itself. */
    private static JsonNode argumentsObject(JsonNode arguments, String param) {
        if (arguments == null || arguments.isNull() || arguments.isObject()) {
            return arguments == null || arguments.isNull() ? Json.object() : arguments;
        }
        String text = arguments.asText();
        if (text.isBlank()) {
            return Json.object();
        }
        try {
            JsonNode parsed = Json.MAPPER.readTree(text);
            if (parsed != null && parsed.isObject()) {
                return parsed;
            }
        } catch (IOException e) {
            // falls through to the 400 below
        }
        throw OpenAiError.invalidRequest(param, "'" + param + "' must be a JSON object in a string");
    }

    // -- chat reply -----------------------------------------------------------------------------------------------

    private static ObjectNode completion(UpstreamCall call, JsonNode reply) {
        if (reply.hasNonNull("error")) {
            throw OpenAiError.upstream("The upstream failed: " + errorText(reply.get("error")), null);
        }
        JsonNode message = reply.path("message");
        String content = message.path("content").asText("");
        JsonNode calls = message.get("tool_calls");
        ArrayNode toolCalls = calls != null && calls.isArray() && !calls.isEmpty() ? openAiToolCalls(calls, -1) : null;
        return Chunks.completion(Chunks.newId("chatcmpl-"), Chunks.nowSeconds(), call.route().model(),
                toolCalls != null && content.isEmpty() ? null : content, toolCalls,
                finishReason(reply, toolCalls != null), usage(call, reply, content));
    }

    /**
     * OpenAI tool calls from Ollama's: arguments object → JSON string, an id made up when Ollama gave none.
     * {@code firstIndex} ≥ 0 adds the "index" field that stream deltas carry.
     */
    private static ArrayNode openAiToolCalls(JsonNode calls, int firstIndex) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (JsonNode call : calls) {
            JsonNode function = call.path("function");
            ObjectNode converted = out.addObject();
            if (firstIndex >= 0) {
                converted.put("index", firstIndex + out.size() - 1);
            }
            converted.put("id", call.hasNonNull("id") ? call.get("id").asText() : Chunks.newId("call_"));
            converted.put("type", "function");
            ObjectNode fn = converted.putObject("function");
            fn.put("name", function.path("name").asText());
            JsonNode arguments = function.get("arguments");
            fn.put("arguments", arguments == null || arguments.isNull() ? "{}"
                    : arguments.isTextual() ? arguments.asText() : Json.string(arguments));
        }
        return out;
    }

    /** "length" when num_predict cut the reply; "tool_calls" when the model called tools; "stop" otherwise. */
    private static String finishReason(JsonNode last, boolean toolCalls) {
        if (toolCalls) {
            return "tool_calls";
        }
        return "length".equals(last.path("done_reason").asText()) ? "length" : "stop";
    }

    /** Ollama's own counts; it leaves prompt_eval_count out when the whole prompt came from its cache. */
    private static Usage usage(UpstreamCall call, JsonNode last, CharSequence content) {
        boolean hasPrompt = last.hasNonNull("prompt_eval_count");
        boolean hasEval = last.hasNonNull("eval_count");
        return new Usage(
                hasPrompt ? last.get("prompt_eval_count").asLong() : PromptTokens.estimate(call.request()),
                hasEval ? last.get("eval_count").asLong() : TokenEstimate.of(content),
                !hasPrompt || !hasEval);
    }

    private static String errorText(JsonNode error) {
        return error.isTextual() ? error.asText() : error.toString();
    }

    // -- chat stream ----------------------------------------------------------------------------------------------

    /** Reads the NDJSON lines as they come and pushes OpenAI chunks; runs on the upstream connection's event loop. */
    private static void relay(UpstreamCall call, ChunkSink sink, HttpClientResponse response, Promise<Void> done) {
        try {
            sink.open();
            ChatStream state = new ChatStream(call, sink);
            state.start(); // the role chunk goes out before any line is read
            @SuppressWarnings("unchecked")
            ReadStream<Buffer>[] lines = new ReadStream[1];
            lines[0] = NdjsonLines.parse(response, line -> {
                if (done.future().isComplete()) {
                    return;
                }
                try {
                    state.onLine(line);
                } catch (RuntimeException e) {
                    abort(call, response, done, e);
                    return;
                }
                if (!sink.writable()) {
                    lines[0].pause(); // the client is slow: stop reading, TCP tells Ollama to wait
                    sink.whenWritable(lines[0]::resume);
                }
            });
            lines[0].exceptionHandler(e -> abort(call, response, done, e)); // reset: a broken read must free the slot too
            lines[0].endHandler(v -> {
                if (state.finished) {
                    done.tryComplete();
                } else {
                    done.tryFail(CUT); // a cut stream is never a clean end
                }
            });
        } catch (RuntimeException e) {
            abort(call, response, done, e);
        }
    }

    private static void abort(UpstreamCall call, HttpClientResponse response, Promise<Void> done, Throwable e) {
        OpenAiError error = failure(call, e);
        done.tryFail(error);
        response.request().reset(0, error); // nothing more of this stream is wanted; a reset does not drain it
    }

    /** Why a call failed: the cancellation's own reason (deadline: 504) beats the bare reset it caused. */
    private static OpenAiError failure(UpstreamCall call, Throwable e) {
        Throwable reason = call.cancellation().reason();
        return UpstreamErrors.ofFailure(reason != null ? reason : e);
    }

    /** One stream's translation state: one id and created for all chunks, tool call numbering, the end seen. */
    private static final class ChatStream {
        private final UpstreamCall call;
        private final ChunkSink sink;
        private final String id = Chunks.newId("chatcmpl-");
        private final long created = Chunks.nowSeconds();
        private final String model;
        private final StringBuilder content = new StringBuilder(); // only for a count if Ollama gives none
        private int toolCalls;
        private boolean finished;

        ChatStream(UpstreamCall call, ChunkSink sink) {
            this.call = call;
            this.sink = sink;
            this.model = call.route().model();
        }

        void start() {
            ObjectNode first = Chunks.chunk(id, created, model);
            Chunks.delta(first).put("role", "assistant").put("content", "");
            sink.accept(first);
        }

        void onLine(Buffer line) {
            JsonNode json = parse(line);
            if (json.hasNonNull("error")) {
                throw OpenAiError.upstream("The upstream failed mid-stream: " + errorText(json.get("error")), null);
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
                Chunks.delta(chunk).set("tool_calls", openAiToolCalls(calls, toolCalls));
                toolCalls += calls.size();
                sink.accept(chunk);
            }
            if (json.path("done").asBoolean(false)) {
                finished = true;
                sink.accept(Chunks.finishChunk(id, created, model, finishReason(json, toolCalls > 0)));
                sink.accept(Chunks.usageChunk(id, created, model, usage(call, json, content)));
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

    // -- embeddings -----------------------------------------------------------------------------------------------

    private static ObjectNode embedBody(UpstreamCall call) {
        JsonNode input = call.request().get("input");
        boolean text = input != null && (input.isTextual() || input.isArray() && !input.isEmpty());
        if (text && input.isArray()) {
            for (JsonNode item : input) {
                text &= item.isTextual();
            }
        }
        if (!text) {
            throw OpenAiError.invalidRequest("input", "Ollama backends embed text: a string or an array of strings");
        }
        ObjectNode body = Json.object();
        body.put("model", call.upstreamModel());
        body.set("input", input);
        JsonNode dimensions = call.request().get("dimensions");
        if (dimensions != null && dimensions.isInt()) {
            body.set("dimensions", dimensions); // newer Ollama versions truncate to it; older ones ignore it
        }
        return body;
    }

    private static ObjectNode embeddings(UpstreamCall call, JsonNode reply, boolean base64) {
        JsonNode vectors = reply.get("embeddings");
        if (vectors == null || !vectors.isArray()) {
            throw OpenAiError.upstream("The upstream answered without embeddings", null);
        }
        ObjectNode list = Json.object();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        for (int i = 0; i < vectors.size(); i++) {
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            JsonNode vector = vectors.get(i);
            if (base64) { // float32 little-endian, as OpenAI's SDKs decode it
                ByteBuffer bytes = ByteBuffer.allocate(vector.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
                vector.forEach(v -> bytes.putFloat((float) v.doubleValue()));
                item.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
            } else {
                item.set("embedding", vector);
            }
        }
        list.put("model", call.route().model());
        long tokens = reply.hasNonNull("prompt_eval_count") ? reply.get("prompt_eval_count").asLong()
                : TokenEstimate.of(PromptTokens.text(call.request().get("input")));
        ObjectNode usage = list.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        return list;
    }
}
