package dev.caravan.backend.local;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.BackendAdapter;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.config.BackendConfig;
import dev.caravan.config.LocalModels;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.Chunks;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import dev.caravan.openai.TokenEstimate;
import dev.caravan.openai.Usage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * The in-process backend of the embedded default: caravan-echo for chat (streamed token by token on event-loop
 * timers, so a stream holds no thread) and all-minilm-l6-v2 for embeddings (on a worker thread).
 */
public final class LocalAdapter implements BackendAdapter {

    private final Vertx vertx;
    private final long tokenDelayMillis;
    private final LocalEmbeddings embeddings = new LocalEmbeddings();

    public LocalAdapter(Vertx vertx, long tokenDelayMillis) {
        this.vertx = vertx;
        this.tokenDelayMillis = tokenDelayMillis;
    }

    @Override
    public Future<ObjectNode> call(UpstreamCall call) {
        if (call.operation() == Operation.EMBEDDINGS) {
            return embed(call);
        }
        requireModel(call, LocalModels.ECHO);
        Reply reply = reply(call);
        String content = String.join("", reply.tokens);
        return Future.succeededFuture(Chunks.completion(Chunks.newId("chatcmpl-"), Chunks.nowSeconds(),
                call.route().model(), content, null, reply.finishReason, reply.usage()));
    }

    @Override
    public Future<Void> stream(UpstreamCall call, ChunkSink sink) {
        requireModel(call, LocalModels.ECHO);
        Reply reply = reply(call);
        String id = Chunks.newId("chatcmpl-");
        long created = Chunks.nowSeconds();
        String model = call.route().model();
        Promise<Void> done = Promise.promise();
        Context context = vertx.getOrCreateContext();
        call.cancellation().onCancel(done::tryFail);
        sink.open();
        ObjectNode first = Chunks.chunk(id, created, model);
        Chunks.delta(first).put("role", "assistant").put("content", "");
        sink.accept(first);
        new Emitter(context, sink, done, reply, id, created, model).next(0);
        return done.future();
    }

    @Override
    public Future<List<String>> listModels(String backendName, BackendConfig backend) {
        return Future.succeededFuture(List.of());
    }

    private Future<ObjectNode> embed(UpstreamCall call) {
        requireModel(call, LocalModels.MINILM);
        List<String> inputs = inputs(call.request().get("input"));
        boolean base64 = "base64".equals(call.request().path("encoding_format").asText());
        JsonNode dimensions = call.request().get("dimensions");
        if (dimensions != null && !dimensions.isNull() && dimensions.asInt() != LocalEmbeddings.DIMENSIONS) {
            return Future.failedFuture(OpenAiError.invalidRequest("dimensions",
                    LocalModels.MINILM + " has " + LocalEmbeddings.DIMENSIONS + " dimensions"));
        }
        return vertx.executeBlocking(() -> embeddings.embed(inputs, call.route().model(), base64), false);
    }

    private static List<String> inputs(JsonNode input) {
        List<String> inputs = new ArrayList<>();
        if (input.isTextual()) {
            inputs.add(input.asText());
        } else {
            for (JsonNode item : input) {
                if (!item.isTextual()) {
                    throw OpenAiError.invalidRequest("input", LocalModels.MINILM + " embeds text; token arrays are not supported");
                }
                inputs.add(item.asText());
            }
        }
        return inputs;
    }

    private static void requireModel(UpstreamCall call, String model) {
        if (!model.equals(call.upstreamModel())) {
            String what = call.operation() == Operation.EMBEDDINGS ? "embeddings" : "chat";
            throw new OpenAiError(400, "invalid_request_error", "model_not_supported", "model",
                    "The local backend serves " + what + " with '" + model + "' only, not " + OpenAiError.echo(call.upstreamModel()));
        }
    }

    private static Reply reply(UpstreamCall call) {
        JsonNode messages = call.request().path("messages");
        List<String> tokens = EchoModel.replyTokens(messages);
        int max = maxTokens(call.request());
        String finish = "stop";
        if (max > 0 && max < tokens.size()) {
            tokens = tokens.subList(0, max);
            finish = "length";
        }
        long prompt = 0;
        for (JsonNode message : messages) {
            prompt += TokenEstimate.of(EchoModel.text(message.get("content"))) + 4; // role and framing tokens
        }
        return new Reply(tokens, finish, prompt);
    }

    private static int maxTokens(JsonNode request) {
        JsonNode max = request.hasNonNull("max_completion_tokens") ? request.get("max_completion_tokens")
                : request.get("max_tokens");
        return max == null || max.isNull() ? 0 : max.asInt();
    }

    private record Reply(List<String> tokens, String finishReason, long promptTokens) {
        Usage usage() {
            return new Usage(promptTokens, tokens.size(), false);
        }
    }

    /** Sends one token per timer tick, pausing while the client's socket is backed up. */
    private final class Emitter {
        private final Context context;
        private final ChunkSink sink;
        private final Promise<Void> done;
        private final Reply reply;
        private final String id;
        private final long created;
        private final String model;

        Emitter(Context context, ChunkSink sink, Promise<Void> done, Reply reply, String id, long created, String model) {
            this.context = context;
            this.sink = sink;
            this.done = done;
            this.reply = reply;
            this.id = id;
            this.created = created;
            this.model = model;
        }

        void next(int index) {
            if (done.future().isComplete()) {
                return; // cancelled: the client left or the deadline passed
            }
            try {
                emit(index);
            } catch (RuntimeException e) {
                done.tryFail(e); // the sink refused a chunk (a stream hook failed): the stream ends with that error
            }
        }

        private void emit(int index) {
            if (index == reply.tokens.size()) {
                sink.accept(Chunks.finishChunk(id, created, model, reply.finishReason));
                sink.accept(Chunks.usageChunk(id, created, model, reply.usage()));
                done.tryComplete();
                return;
            }
            sink.accept(Chunks.contentChunk(id, created, model, reply.tokens.get(index)));
            Runnable step = () -> schedule(index + 1);
            if (sink.writable()) {
                step.run();
            } else {
                sink.whenWritable(step);
            }
        }

        private void schedule(int index) {
            if (tokenDelayMillis > 0) {
                vertx.setTimer(tokenDelayMillis, t -> context.runOnContext(v -> next(index)));
            } else {
                context.runOnContext(v -> next(index));
            }
        }
    }
}
