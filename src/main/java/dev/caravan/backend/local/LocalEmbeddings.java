package dev.caravan.backend.local;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.caravan.stream.TokenEstimate;

/**
 * all-minilm-l6-v2: real 384-dimension sentence embeddings, computed in-process by ONNX runtime from the
 * quantised model that ships inside a Maven Central jar. Loaded on first use (about a second); inference is
 * CPU work, so callers run it off the event loop.
 */
public final class LocalEmbeddings {

    public static final int DIMENSIONS = 384;

    private volatile EmbeddingModel model;

    /** Blocking: call from a worker thread. */
    public ObjectNode embed(List<String> inputs, String clientModel, boolean base64) {
        List<TextSegment> segments = new ArrayList<>(inputs.size());
        for (String input : inputs) {
            segments.add(TextSegment.from(input));
        }
        Response<List<Embedding>> response = model().embedAll(segments);
        ObjectNode reply = Json.object();
        reply.put("object", "list");
        ArrayNode data = reply.putArray("data");
        List<Embedding> embeddings = response.content();
        for (int i = 0; i < embeddings.size(); i++) {
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            float[] vector = embeddings.get(i).vector();
            if (base64) {
                ByteBuffer bytes = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : vector) {
                    bytes.putFloat(v);
                }
                item.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
            } else {
                ArrayNode values = item.putArray("embedding");
                for (float v : vector) {
                    values.add(v);
                }
            }
        }
        reply.put("model", clientModel);
        long tokens = response.tokenUsage() != null && response.tokenUsage().inputTokenCount() != null
                ? response.tokenUsage().inputTokenCount()
                : inputs.stream().mapToLong(TokenEstimate::of).sum();
        ObjectNode usage = reply.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        return reply;
    }

    private EmbeddingModel model() {
        EmbeddingModel m = model;
        if (m == null) {
            synchronized (this) {
                if (model == null) {
                    model = new AllMiniLmL6V2QuantizedEmbeddingModel();
                }
                m = model;
            }
        }
        return m;
    }
}
