package dev.caravan.backend.local;

import java.io.InputStream;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded all-minilm-l6-v2 gives the embeddings the reference implementation gives (langchain4j's in-process
 * model with the Hugging Face tokenizer, recorded in embeddings/all-minilm-l6-v2-reference.json): accents, CJK,
 * emoji, words too long for WordPiece, control characters, special tokens in the text, and a text longer than the
 * model's 128 tokens.
 */
class LocalEmbeddingsTest {

    @Test
    void embeddingsMatchTheReferenceImplementation() throws Exception {
        JsonNode reference;
        try (InputStream in = getClass().getResourceAsStream("/embeddings/all-minilm-l6-v2-reference.json")) {
            reference = Json.MAPPER.readTree(in);
        }
        LocalEmbeddings embeddings = new LocalEmbeddings();
        for (JsonNode expected : reference) {
            String input = expected.get("input").asText();
            JsonNode reply = embeddings.embed(List.of(input), "all-minilm-l6-v2", false);
            JsonNode vector = reply.at("/data/0/embedding");
            assertEquals(LocalEmbeddings.DIMENSIONS, vector.size());
            double dot = 0;
            double worst = 0;
            for (int i = 0; i < vector.size(); i++) {
                double want = expected.get("embedding").get(i).asDouble();
                dot += want * vector.get(i).asDouble();
                worst = Math.max(worst, Math.abs(want - vector.get(i).asDouble()));
            }
            String what = "'" + input.substring(0, Math.min(40, input.length())) + "'";
            assertTrue(worst < 1e-4, what + ": a component differs by " + worst + " (cosine " + dot + ")");
            assertEquals(expected.get("tokens").asLong(), reply.at("/usage/prompt_tokens").asLong(), what);
        }
    }
}
