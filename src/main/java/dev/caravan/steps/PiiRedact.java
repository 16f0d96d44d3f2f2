package dev.caravan.steps;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The pii-redact hook step (kamelet pii-redact-action): replaces e-mail addresses, phone numbers, card numbers
 * (Luhn-checked) and IBANs (mod-97-checked) with a placeholder, wherever it runs:
 * <ul>
 * <li>in a pre- or mid-hook the body is the request: the prompts are redacted before any upstream sees them;</li>
 * <li>in post-hooks the body is the completion: the answer is redacted before the JSON reply is written;</li>
 * <li>in stream-hooks the body is each chunk: the answer text is redacted as it streams, holding back only the
 * tail that could still become a match ({@link StreamHoldback}), released by the choice's finish chunk.</li>
 * </ul>
 * Anything else (an error reply, embeddings) passes untouched.
 */
public final class PiiRedact implements Processor {

    /**
     * The chunk exchange property of the stream-hooks route, a Map per stream for the steps' own state
     * (dev.caravan.stream.StreamHooks.STATE, named again here: steps import only the bottom packages).
     */
    static final String STREAM_STATE = "CaravanStreamState";

    private String kinds = "email,phone,card,iban";
    private String placeholder = "[{KIND}]";
    private PiiDetector detector = new PiiDetector(PiiDetector.kinds(kinds), placeholder);
    /** This step's entry in a stream's state map: two pii-redact steps in one route keep separate holdbacks. */
    private final String stateKey = "pii-redact@" + Integer.toHexString(System.identityHashCode(this));

    @Override
    public void process(Exchange exchange) {
        ObjectNode body = StepBody.objectOrNull(exchange);
        if (body == null) {
            return;
        }
        Object state = exchange.getProperty(STREAM_STATE);
        if (state instanceof Map<?, ?> map && body.has("choices")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> streamState = (Map<String, Object>) map;
            redactChunk(body, (StreamHoldback) streamState.computeIfAbsent(stateKey, k -> new StreamHoldback(detector)));
        } else if (StepBody.isRequest(body)) {
            TextFields.rewriteRequest(body, detector::redact);
        } else if (body.has("choices")) {
            TextFields.rewriteCompletion(body, detector::redact);
        }
    }

    /** A chat.completion.chunk (delta.content) or a streamed text_completion (text). */
    private static void redactChunk(ObjectNode chunk, StreamHoldback holdback) {
        JsonNode choices = chunk.get("choices");
        if (choices == null || !choices.isArray()) {
            return;
        }
        for (JsonNode choice : choices) {
            if (!(choice instanceof ObjectNode c)) {
                continue;
            }
            int index = c.path("index").asInt(0);
            boolean last = c.hasNonNull("finish_reason");
            // chat: choices[].delta.content; legacy completions: choices[].text
            boolean chat = c.get("delta") instanceof ObjectNode;
            ObjectNode holder = chat ? (ObjectNode) c.get("delta") : c;
            String field = chat ? "content" : "text";
            JsonNode text = holder.get(field);
            if (text != null && text.isTextual()) {
                holder.put(field, holdback.next(index, text.asText(), last));
            } else if (last) {
                String rest = holdback.next(index, "", true);
                if (!rest.isEmpty()) {
                    holder.put(field, rest);
                }
            }
        }
    }

    /** "email,phone,card,iban" or any subset. */
    public void setKinds(String kinds) {
        this.kinds = kinds;
        this.detector = new PiiDetector(PiiDetector.kinds(kinds), placeholder);
    }

    /** "[{KIND}]" (default: "[EMAIL]", "[CARD]", ...) or any text, such as "[REDACTED]". */
    public void setPlaceholder(String placeholder) {
        this.placeholder = placeholder == null ? "" : placeholder;
        this.detector = new PiiDetector(PiiDetector.kinds(kinds), this.placeholder);
    }
}
