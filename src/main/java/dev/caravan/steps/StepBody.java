package dev.caravan.steps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;

/**
 * What a step works on: the message body when it is a JSON object (the request before the backend call, the reply
 * or a stream chunk after it); else the request as the backend call last sent it.
 */
final class StepBody {

    private StepBody() {
    }

    /** The request a pre- or mid-hook step reshapes, in place. */
    static ObjectNode request(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        if (body instanceof ObjectNode object) {
            return object;
        }
        JsonNode request = exchange.getProperty(ExchangeKeys.REQUEST, JsonNode.class);
        if (request instanceof ObjectNode object) {
            return object;
        }
        throw OpenAiError.invalidRequest(null, "The request body must be a JSON object");
    }

    /** The body as a JSON object, or null when it is anything else (an error reply written as text, say). */
    static ObjectNode objectOrNull(Exchange exchange) {
        return exchange.getMessage().getBody() instanceof ObjectNode object ? object : null;
    }

    /** True when the body is a chat request (messages) or a legacy completion request (prompt). */
    static boolean isRequest(ObjectNode body) {
        return body.has("messages") || body.has("prompt");
    }
}
