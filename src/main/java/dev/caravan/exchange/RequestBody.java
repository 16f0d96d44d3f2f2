package dev.caravan.exchange;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.buffer.Buffer;
import org.apache.camel.Exchange;

/**
 * The request as the message body. From the validate step on, the body is the parsed request (a Jackson
 * ObjectNode), so a YAML step (jq {@code transform}, {@code setBody}, a {@code choice}) reshapes what goes
 * upstream. A step may leave it as JSON text instead (setBody with simple): it is read back here, once.
 */
public final class RequestBody {

    private RequestBody() {
    }

    /** The request in the body; a 500 naming the hook when a step left something that is not a JSON object. */
    public static ObjectNode of(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        if (body instanceof ObjectNode request) {
            return request;
        }
        ObjectNode request = parse(body);
        exchange.getMessage().setBody(request);
        return request;
    }

    private static ObjectNode parse(Object body) {
        JsonNode node = null;
        try {
            if (body instanceof JsonNode json) {
                node = json;
            } else if (body instanceof Buffer buffer) {
                node = Json.MAPPER.readTree(buffer.getBytes());
            } else if (body instanceof byte[] bytes) {
                node = Json.MAPPER.readTree(bytes);
            } else if (body instanceof String text) {
                node = Json.MAPPER.readTree(text.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            node = null;
        }
        if (node instanceof ObjectNode request) {
            return request;
        }
        // the client's body was checked by the validate step: whatever broke it since is a hook step's doing
        throw new OpenAiError(500, "server_error", "hook_body_invalid", null,
                "A hook step left a message body that is not a JSON request object ("
                        + (body == null ? "null" : body.getClass().getSimpleName()) + ")");
    }
}
