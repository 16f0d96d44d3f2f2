package dev.caravan.steps;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.RequestBody;
import org.apache.camel.Exchange;

/**
 * What a step works on: the message body. Before the backend call it is the request (read through {@link
 * RequestBody}, which takes back JSON text a YAML step left); after it, the reply, the error object or, in
 * stream-hooks, one chunk.
 */
final class StepBody {

    private StepBody() {
    }

    /** The request a pre- or mid-hook step reshapes, in place. */
    static ObjectNode request(Exchange exchange) {
        return RequestBody.of(exchange);
    }

    /** The body as a JSON object, or null when it is anything else (a reply written as text, say). */
    static ObjectNode objectOrNull(Exchange exchange) {
        return exchange.getMessage().getBody() instanceof ObjectNode object ? object : null;
    }

    /** True when the body is a chat request (messages) or a legacy completion request (prompt). */
    static boolean isRequest(ObjectNode body) {
        return body.has("messages") || body.has("prompt");
    }
}
